"""A naive-loop conv forward and backward: the reference the vectorised engine is tested and timed against.

One Python iteration per (sample, filter, output position), each a NumPy product over one window;
written straight from the definitions, sharing no code with engine/conv.py.
"""
from __future__ import annotations

import numpy as np


def _padded(x, padding: int):
    """Copy x (m, C, H, W) into a zero array with `padding` extra rows and columns on each side."""
    m, c, h, w = x.shape
    out = np.zeros((m, c, h + 2 * padding, w + 2 * padding))
    out[:, :, padding:padding + h, padding:padding + w] = x
    return out


def naive_conv_forward(x, W, b, stride: int = 1, padding: int = 0):
    """z[n, o, r, s] = Σ_{c,u,v} W[o,c,u,v]·x_pad[n, c, r·stride+u, s·stride+v] + b[o], by loops."""
    xp = _padded(x, padding)
    m, _, hp, wp = xp.shape
    c_out, _, kh, kw = W.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    z = np.zeros((m, c_out, ho, wo))
    for n in range(m):
        for o in range(c_out):
            for r in range(ho):
                for s in range(wo):
                    window = xp[n, :, r * stride:r * stride + kh, s * stride:s * stride + kw]
                    z[n, o, r, s] = np.sum(window * W[o]) + b[o]
    return z


def naive_conv_backward(x, W, dz, stride: int = 1, padding: int = 0):
    """(∂L/∂x, ∂L/∂W, ∂L/∂b) from dz = ∂L/∂z, by sending each output's gradient back through its window."""
    xp = _padded(x, padding)
    m, _, h, w = x.shape
    c_out, _, kh, kw = W.shape
    _, _, ho, wo = dz.shape
    dxp, dW, db = np.zeros_like(xp), np.zeros(W.shape), np.zeros(c_out)
    for n in range(m):
        for o in range(c_out):
            for r in range(ho):
                for s in range(wo):
                    g = dz[n, o, r, s]
                    rows, cols = slice(r * stride, r * stride + kh), slice(s * stride, s * stride + kw)
                    dW[o] += g * xp[n, :, rows, cols]
                    dxp[n, :, rows, cols] += g * W[o]
                    db[o] += g
    return dxp[:, :, padding:padding + h, padding:padding + w], dW, db
