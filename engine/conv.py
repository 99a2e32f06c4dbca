"""Convolution and pooling layers, traced: forward maps, the filter gradient, gradient routing.

Maps are (m, C, H, W). Conv2D computes a cross-correlation (as frameworks do) of the zero-padded
input with every filter, vectorised with stride tricks: for each of the k×k kernel offsets, the
strided view of the input every output position sees there, contracted with that filter tap over
the channels (never a Python loop over positions). Going back, ∂L/∂W is the correlation of the
input with δ (the same views), and ∂L/∂x the full convolution of δ with the flipped filters, as a
scatter-add through those views. Pooling routes the gradient: max-pool to the maximum
of each window (ties by the convention 'first' or 'split'), average-pool equally to every position.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.layer import Layer, batch_mean_expansion, grad_kind, record_activation, record_activation_backward
from nn_tutor.engine.numfmt import fmt_num
from nn_tutor.engine.ops import get_activation, zero_within_rounding
from nn_tutor.engine.trace import Op

MAX_TERMS = 27  # a 3×3×3 window is written out in full; longer expansions are elided in the middle
TIE_TOLERANCE = 1e-12  # relative: window values this close to the maximum count as tied


# ---- convolution maths ------------------------------------------------------------------------------

def output_size(n: int, k: int, stride: int, padding: int) -> int:
    """Output length along one axis: ⌊(n + 2p − k) / stride⌋ + 1."""
    return (n + 2 * padding - k) // stride + 1


def _pad(x, padding: int):
    """Zero-pad the two spatial axes: (m, C, H, W) -> (m, C, H + 2p, W + 2p)."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def _windows(x, kh: int, kw: int, stride: int):
    """Every kh×kw window moved by stride, as a view: (m, C, H, W) -> (m, C, Ho, Wo, kh, kw)."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def _shifted(xp, u: int, v: int, stride: int, ho: int, wo: int):
    """The input values every output position sees at kernel offset (u, v): x_pad[:, :, r·stride+u, s·stride+v]."""
    return xp[:, :, u:u + stride * ho:stride, v:v + stride * wo:stride]  # (m, C_in, Ho, Wo), a view


def conv_forward(W, x, b, stride: int = 1, padding: int = 0):
    """z[c_out, r, s] = Σ_{c,u,v} W[c_out,c,u,v]·x_pad[c, r·stride+u, s·stride+v] + b[c_out]."""
    kh, kw = W.shape[2:]
    xp = _pad(x, padding)                                      # (m, C_in, H + 2p, W + 2p)
    ho, wo = output_size(x.shape[2], kh, stride, padding), output_size(x.shape[3], kw, stride, padding)
    z = np.zeros((x.shape[0], W.shape[0], ho, wo))             # (m, C_out, Ho, Wo)
    for u in range(kh):
        for v in range(kw):
            # every position at once: filter tap (u, v) times the input shifted by (u, v), summed over channels
            z += np.einsum("oc,mcrs->mors", W[:, :, u, v], _shifted(xp, u, v, stride, ho, wo))
    return z + b[None, :, None, None]


def conv_pre_activation(W, x, b, stride: int = 1, padding: int = 0):
    """conv_forward with every sum within rounding noise of 0 set to exactly 0 (kinks then apply)."""
    magnitude = conv_forward(np.abs(W), np.abs(x), np.abs(b), stride, padding)  # Σ|terms|, (m, C_out, Ho, Wo)
    n_terms = W.shape[1] * W.shape[2] * W.shape[3] + 1
    return zero_within_rounding(conv_forward(W, x, b, stride, padding), magnitude, n_terms)


def conv_filter_grad(x, delta, kh: int, kw: int, stride: int = 1, padding: int = 0):
    """∂L/∂W = x ⋆ δ: the padded input correlated with δ, summed over the batch -> (C_out, C_in, kh, kw)."""
    xp = _pad(x, padding)                                      # (m, C_in, H + 2p, W + 2p)
    ho, wo = delta.shape[2:]
    dW = np.empty((delta.shape[1], x.shape[1], kh, kw))        # (C_out, C_in, kh, kw)
    for u in range(kh):
        for v in range(kw):
            # ∂L/∂W[o, c, u, v] = Σ_{m,r,s} δ[m, o, r, s]·x_pad[m, c, r·stride+u, s·stride+v]
            dW[:, :, u, v] = np.einsum("mors,mcrs->oc", delta, _shifted(xp, u, v, stride, ho, wo))
    return dW


def conv_bias_grad(delta):
    """∂L/∂b = δ summed over the batch and every position: (m, C_out, Ho, Wo) -> (C_out,)."""
    return delta.sum(axis=(0, 2, 3))


def conv_input_grad(W, delta, in_shape, stride: int = 1, padding: int = 0):
    """∂L/∂x = δ convolved (full) with the flipped filters, as a scatter-add; padding cropped off."""
    m, c_in, h, w = in_shape
    kh, kw = W.shape[2:]
    ho, wo = delta.shape[2:]
    dx = np.zeros((m, c_in, h + 2 * padding, w + 2 * padding))  # (m, C_in, H + 2p, W + 2p)
    for u in range(kh):
        for v in range(kw):
            # every output position (r, s) sends δ·W[:, :, u, v] back to input (r·stride+u, s·stride+v)
            _shifted(dx, u, v, stride, ho, wo)[...] += np.einsum("oc,mors->mcrs", W[:, :, u, v], delta)
    return dx[:, :, padding:padding + h, padding:padding + w]  # (m, C_in, H, W)


def conv_backward(x, W, delta, stride: int = 1, padding: int = 0):
    """All three conv gradients from δ = ∂L/∂z: (∂L/∂x, ∂L/∂W, ∂L/∂b)."""
    kh, kw = W.shape[2:]
    return (conv_input_grad(W, delta, x.shape, stride, padding),
            conv_filter_grad(x, delta, kh, kw, stride, padding), conv_bias_grad(delta))


# ---- pooling maths ----------------------------------------------------------------------------------

def pool_forward(x, mode: str, size: int, stride: int):
    """Max or average of every size×size window: (m, C, H, W) -> (m, C, Ho, Wo)."""
    win = _windows(x, size, size, stride)                      # (m, C, Ho, Wo, k, k)
    return win.max(axis=(4, 5)) if mode == "max" else win.mean(axis=(4, 5))


def pool_weights(x, mode: str, size: int, stride: int, ties: str = "first"):
    """How much of each window's gradient each of its positions receives: (m, C, Ho, Wo, k, k).

    avg: 1/k² everywhere. max: 1 at the maximum; tied maxima (within TIE_TOLERANCE) follow `ties`:
    'first' = the first maximum in row-major order within the window, 'split' = 1/t to each of t.
    """
    win = _windows(x, size, size, stride)                      # (m, C, Ho, Wo, k, k)
    if mode == "avg":
        return np.full(win.shape, 1.0 / (size * size))
    flat = win.reshape(win.shape[:4] + (size * size,))         # (m, C, Ho, Wo, k²) row-major window
    top = flat.max(axis=4, keepdims=True)                      # (m, C, Ho, Wo, 1)
    is_max = flat >= top - TIE_TOLERANCE * np.maximum(1.0, np.abs(top))  # (m, C, Ho, Wo, k²)
    if ties == "split":
        weights = is_max / is_max.sum(axis=4, keepdims=True)
    else:
        weights = np.zeros(flat.shape)
        np.put_along_axis(weights, np.argmax(is_max, axis=4)[..., None], 1.0, axis=4)
    return weights.reshape(win.shape)


def _scatter_windows(per_window, in_shape, stride: int):
    """Add window-shaped values back onto the map they came from (overlaps accumulate)."""
    out = np.zeros(in_shape)                                   # (m, C, H, W)
    ho, wo, kh, kw = per_window.shape[2:]
    for u in range(kh):
        for v in range(kw):
            _shifted(out, u, v, stride, ho, wo)[...] += per_window[:, :, :, :, u, v]
    return out


def pool_mask(x, mode: str, size: int, stride: int, ties: str = "first"):
    """Where the gradient goes, on the input map: each position's share summed over its windows."""
    return _scatter_windows(pool_weights(x, mode, size, stride, ties), x.shape, stride)


def pool_input_grad(grad_out, x, mode: str, size: int, stride: int, ties: str = "first"):
    """∂L/∂x: each window's gradient routed by its weights, accumulated where windows overlap."""
    weights = pool_weights(x, mode, size, stride, ties)        # (m, C, Ho, Wo, k, k)
    return _scatter_windows(weights * grad_out[..., None, None], x.shape, stride)  # (m, C, H, W)


# ---- element expansions -----------------------------------------------------------------------------

def _join(terms: list[str], tail: str = "") -> str:
    if len(terms) > MAX_TERMS:
        terms = terms[:4] + [f"… ({len(terms) - 6} more terms) …"] + terms[-2:]
    text = " + ".join(terms) if terms else "0"
    return f"{text} + {tail}" if tail else text


def _expand_conv(stride, padding):
    """z[m, o, r, s] as the sum of its C·k·k products plus the bias."""
    def expand(inputs, idx, p):
        W, x, b = inputs
        m, o, r, s = idx
        xp = _pad(x, padding)
        terms = [f"{fmt_num(W[o, c, u, v], p)}×{fmt_num(xp[m, c, r * stride + u, s * stride + v], p)}"
                 for c in range(W.shape[1]) for u in range(W.shape[2]) for v in range(W.shape[3])]
        return _join(terms, fmt_num(b[o], p))
    return expand


def _expand_filter_grad(stride, padding):
    """∂L/∂W[o, c, u, v] as Σ over samples and output positions of x_pad·δ."""
    def expand(inputs, idx, p):
        x, delta = inputs
        o, c, u, v = idx
        xp = _pad(x, padding)
        terms = [f"{fmt_num(xp[m, c, r * stride + u, s * stride + v], p)}×{fmt_num(delta[m, o, r, s], p)}"
                 for m in range(delta.shape[0]) for r in range(delta.shape[2])
                 for s in range(delta.shape[3])]
        return _join(terms)
    return expand


def _expand_bias_grad(inputs, idx, p):
    delta = inputs[0]
    o = idx[0]
    return _join([fmt_num(v, p) for v in delta[:, o].reshape(-1)])


def _expand_input_grad(stride, padding):
    """∂L/∂x[m, c, i, j] as Σ of W·δ over every (filter, output position) whose window covers it."""
    def expand(inputs, idx, p):
        W, delta, _ = inputs
        m, c, i, j = idx
        terms = []
        for o in range(W.shape[0]):
            for u in range(W.shape[2]):
                for v in range(W.shape[3]):
                    r, rem_r = divmod(i + padding - u, stride)
                    s, rem_s = divmod(j + padding - v, stride)
                    if rem_r or rem_s or not (0 <= r < delta.shape[2] and 0 <= s < delta.shape[3]):
                        continue
                    terms.append(f"{fmt_num(W[o, c, u, v], p)}×{fmt_num(delta[m, o, r, s], p)}")
        return _join(terms)
    return expand


def _expand_pool(mode, size, stride):
    def expand(inputs, idx, p):
        m, c, r, s = idx
        window = inputs[0][m, c, r * stride:r * stride + size, s * stride:s * stride + size]
        values = ", ".join(fmt_num(v, p) for v in window.reshape(-1))
        if mode == "max":
            return f"max({values})"
        return f"({values.replace(', ', ' + ')}) / {size * size}"
    return expand


def _expand_pool_grad(mode, size, stride, ties):
    """∂L/∂x[m, c, i, j] as Σ of share × window gradient over the windows that contain (i, j)."""
    def expand(inputs, idx, p):
        grad_out, x = inputs
        m, c, i, j = idx
        weights = pool_weights(x, mode, size, stride, ties)
        terms = []
        for r in range(grad_out.shape[2]):
            for s in range(grad_out.shape[3]):
                u, v = i - r * stride, j - s * stride
                if 0 <= u < size and 0 <= v < size and weights[m, c, r, s, u, v] != 0:
                    terms.append(f"{fmt_num(weights[m, c, r, s, u, v], p)}×{fmt_num(grad_out[m, c, r, s], p)}")
        return _join(terms) if terms else "0 (no window sends gradient here)"
    return expand


# ---- layers -----------------------------------------------------------------------------------------

class Conv2DLayer(Layer):
    """A traced 2-D convolution: filters W (C_out, C_in, kh, kw), bias b (C_out,), optional f."""

    kind = "conv2d"
    param_names = ("W", "b")

    def __init__(self, spec, index):
        super().__init__(spec, index, batch_axis=0)
        self.act = get_activation(spec.activation, spec.alpha)
        if not self.act.elementwise:
            raise NNTError(f"layer {index} (conv2d): {self.act.name} runs over a vector of classes, not over "
                           f"maps; use relu, sigmoid or tanh here and put {self.act.name} on a dense layer "
                           f"after '- flatten: {{}}'")
        self.has_act = self.act.name != "linear"
        self.out_name = "a" if self.has_act else "z"

    def params(self):
        return {"W": self.spec.W, "b": self.spec.b}

    def _geometry(self, x_shape) -> str:
        """The output-size arithmetic, e.g. '3×3 filters, stride 1, padding 0: (4 + 2·0 − 3)/1 + 1 = 2'."""
        _, kh, kw = self.spec.W.shape[1:]
        S, P = self.spec.stride, self.spec.padding
        h, w = x_shape[2:]
        rows = f"⌊({h} + 2·{P} − {kh})/{S}⌋ + 1 = {output_size(h, kh, S, P)}"
        cols = f"⌊({w} + 2·{P} − {kw})/{S}⌋ + 1 = {output_size(w, kw, S, P)}"
        size = rows if (h, kh) == (w, kw) else f"rows {rows}, columns {cols}"
        return f"{self.spec.W.shape[0]} filter(s) of {kh}×{kw}, stride {S}, padding {P}: output size {size}"

    def forward(self, trace, in_id, prefix, params):
        i, S, P = self.i, self.spec.stride, self.spec.padding
        W_id, b_id = params["W"], params["b"]
        z_id, a_id = f"{prefix}L{i}.z", f"{prefix}L{i}.a"
        x = trace[in_id].value                                  # (m, C_in, H, W)
        fn = lambda W, x, b: conv_pre_activation(W, x, b, S, P)        # noqa: E731
        trace.add(z_id, f"feature maps of layer {i} (each filter slid over the input, plus its bias)",
                  "z[c_out,r,s] = Σ_{c,u,v} W[c_out,c,u,v]·x[c, r·stride+u, s·stride+v] + b[c_out]"
                  + (" (x zero-padded)" if P else ""),
                  fn(trace[W_id].value, x, trace[b_id].value), (W_id, in_id, b_id),  # (m, C_out, Ho, Wo)
                  Op(fn, "{0} ⋆ {1} + {2}", _expand_conv(S, P)), 0, note=self._geometry(x.shape),
                  quantity="pre_activation", layer=i, activation=self.act.name if self.has_act else None)
        if not self.has_act:
            return z_id
        return record_activation(trace, self.act, z_id, a_id, f"activation of layer {i}'s maps", 0, i)

    def backward(self, trace, grad_out_id, in_id, grad_in_id, batch_mean=1.0):
        i, S, P = self.i, self.spec.stride, self.spec.padding
        kh, kw = self.spec.W.shape[2:]
        if self.has_act:
            delta_id = record_activation_backward(trace, self.act, f"L{i}.z", f"L{i}.a", grad_out_id, 0, i)
        else:
            delta_id = grad_out_id  # the next layer recorded ∂L/∂z directly as L{i}.delta
        x, delta = trace[in_id].value, trace[delta_id].value   # (m, C_in, H, W), (m, C_out, Ho, Wo)
        prev = "x" if i == 1 else f"a{i - 1}"
        batch = trace.batch_size > 1
        dW_fn = lambda x, d: batch_mean * conv_filter_grad(x, d, kh, kw, S, P)  # noqa: E731
        db_fn = lambda d: batch_mean * conv_bias_grad(d)                        # noqa: E731
        over = (", averaged over the batch" if batch_mean != 1.0 else ", summed over the batch") if batch else ""
        m = trace.batch_size
        trace.add(f"L{i}.dW", f"gradient of the loss for layer {i}'s filters",
                  f"∂L/∂W{i} = {prev} ⋆ δ{i} (correlation of the input with the upstream gradient: "
                  f"∂L/∂W[c_out,c,u,v] = Σ_{{r,s}} x[c, r·stride+u, s·stride+v]·δ[c_out,r,s]{over})",
                  dW_fn(x, delta), (in_id, delta_id),                 # (C_out, C_in, kh, kw)
                  Op(dW_fn, "{0} ⋆ {1}", batch_mean_expansion(_expand_filter_grad(S, P), batch_mean, m)),
                  phase="backward", quantity="grad_weights", layer=i)
        trace.add(f"L{i}.db", f"gradient of the loss for layer {i}'s biases",
                  f"∂L/∂b{i}[c_out] = Σ_{{r,s}} δ{i}[c_out,r,s]" + (f" ({over[2:]})" if over else ""),
                  db_fn(delta), (delta_id,), Op(db_fn, "Σ {0}", batch_mean_expansion(_expand_bias_grad, batch_mean, m)),
                  phase="backward", quantity="grad_biases", layer=i)
        if grad_in_id is None:
            return
        W_id = f"L{i}.W"
        dx_fn = lambda W, d, x: conv_input_grad(W, d, x.shape, S, P)  # noqa: E731
        trace.add(grad_in_id, f"gradient passed back to layer {i - 1}'s output",
                  f"∂L/∂{prev} = δ{i} ∗ rot180(W{i}) (full convolution of δ with the flipped filters"
                  + (f"; δ spread at stride {S}" if S > 1 else "") + (f"; padding {P} cropped" if P else "")
                  + ")",
                  dx_fn(trace[W_id].value, delta, x), (W_id, delta_id, in_id),  # (m, C_in, H, W)
                  Op(dx_fn, "{1} ∗ rot180({0})", _expand_input_grad(S, P)), 0,
                  **grad_kind(grad_in_id, i - 1))


TIE_TEXT = {"first": "ties: the gradient goes to the first maximum in row-major order",
            "split": "ties: the gradient is split equally among the tied maxima"}


class PoolLayer(Layer):
    """A traced max- or average-pooling layer over size×size windows moved by stride."""

    kind = "pool"

    def __init__(self, spec, index, conventions):
        super().__init__(spec, index, batch_axis=0)
        self.ties = (conventions or {}).get("maxpool_ties", "first")

    def forward(self, trace, in_id, prefix, params):
        i, mode, k, S = self.i, self.spec.mode, self.spec.size, self.spec.stride
        a_id = f"{prefix}L{i}.a"
        fn = lambda x: pool_forward(x, mode, k, S)  # noqa: E731
        what = "maximum" if mode == "max" else "average"
        trace.add(a_id, f"{mode}-pooling of layer {i - 1}'s maps ({k}×{k} windows, stride {S})",
                  f"a[c,r,s] = {what} of x[c, r·{S} .. r·{S}+{k - 1}, s·{S} .. s·{S}+{k - 1}]",
                  fn(trace[in_id].value), (in_id,),                # (m, C, Ho, Wo)
                  Op(fn, f"{mode}pool{k}×{k}({{0}})", _expand_pool(mode, k, S)), 0, quantity="pool", layer=i)
        return a_id

    def backward(self, trace, grad_out_id, in_id, grad_in_id):
        if grad_in_id is None:
            return
        i, mode, k, S, ties = self.i, self.spec.mode, self.spec.size, self.spec.stride, self.ties
        x = trace[in_id].value                                  # (m, C, H, W)
        overlap = " (windows overlap: shares add up)" if S < k else ""
        if mode == "max":
            mask_fn = lambda x: pool_mask(x, mode, k, S, ties)  # noqa: E731
            trace.add(f"L{i}.mask", f"where the max was in each {k}×{k} window of layer {i}",
                      "mask = 1 at each window's maximum, 0 elsewhere" + (
                          " (tied maxima share 1 equally)" if ties == "split" else "") + overlap,
                      mask_fn(x), (in_id,), Op(mask_fn, "argmax positions of {0}"), 0,
                      note=TIE_TEXT[ties], quantity="pool_mask", layer=i)
            formula = "∂L/∂x = each window's ∂L/∂a sent to its maximum only, 0 elsewhere"
            note = TIE_TEXT[ties]
        else:
            formula = f"∂L/∂x = each window's ∂L/∂a divided by {k * k} and spread over its {k * k} positions"
            note = ""
        dx_fn = lambda g, x: pool_input_grad(g, x, mode, k, S, ties)  # noqa: E731
        trace.add(grad_in_id, f"gradient routed back through the {mode}-pool of layer {i}",
                  formula + overlap, dx_fn(trace[grad_out_id].value, x), (grad_out_id, in_id),
                  Op(dx_fn, f"route {{0}} through {mode}pool of {{1}}", _expand_pool_grad(mode, k, S, ties)),
                  0, note=note, **grad_kind(grad_in_id, i - 1))
