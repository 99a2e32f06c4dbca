"""Words for a step: why its formula is what it is and what each factor means, from the typed trace.

Templates are keyed by the step's `quantity` (pre_activation, delta, grad_weights, ...) and filled in
with its `layer` and `activation`; a step of another kind of problem (quantity "") is described from
its label and formula. The numbers quoted are the engine's own, formatted by the trace.
"""
from __future__ import annotations

import numpy as np

from nn_tutor.engine.numfmt import fmt_num

ACTIVATION_SHAPE = {
    "sigmoid": "σ squashes any z into (0, 1), so an output reads like a probability",
    "relu": "ReLU passes a positive z unchanged and turns a negative z into 0",
    "leaky_relu": "leaky ReLU passes a positive z and keeps a small slope α for a negative one",
    "tanh": "tanh squashes z into (−1, 1), centred on 0",
    "linear": "a linear (identity) activation leaves z as it is: a = z",
    "softmax": "softmax turns the layer's scores into probabilities that are positive and sum to 1",
    "step": "the step function outputs 1 when z ≥ 0 and 0 otherwise",
}
ACTIVATION_SLOPE = {
    "sigmoid": "σ′(z) = a·(1 − a): at most 0.25 (at z = 0) and small when the neuron saturates",
    "relu": "ReLU′(z) is 1 where z > 0 and 0 elsewhere (0 at z = 0 by convention): the gradient is let "
            "through or blocked",
    "leaky_relu": "the slope is 1 where z > 0 and α elsewhere",
    "tanh": "tanh′(z) = 1 − a²: at most 1, small when the neuron saturates",
    "linear": "the slope of the identity is 1 everywhere",
    "softmax": "each probability depends on every score, so the derivative is the Jacobian diag(p) − p·pᵀ",
    "step": "the step function's slope is 0 almost everywhere, which is why the perceptron rule, not "
            "backprop, trains it",
}

TEMPLATES = {
    "input": "`{id}` is the input the network is given; every forward step starts from it.",
    "target": "`{id}` is the answer the network should give; the loss measures how far the prediction is "
              "from it.",
    "weights": "`{id}` holds layer {layer}'s weights: row i has the weights into neuron i, one for each "
               "input of the layer. They are what training adjusts.",
    "biases": "`{id}` holds layer {layer}'s biases, one per neuron, added to each weighted sum so a neuron "
              "can respond even when its inputs are 0.",
    "learning_rate": "`{id}` is the learning rate η: the update moves each parameter by η times its "
                     "gradient, so a larger η takes bigger steps (and can overshoot).",
    "momentum": "`{id}` is the momentum μ: the share of the previous step kept in the next one.",
    "velocity": "`{id}` is the momentum velocity: μ times the previous velocity plus this gradient.",
    "pre_activation": "`{id}` is layer {layer}'s weighted sum, z = W·a_prev + b: each neuron multiplies "
                      "every output of the previous layer ({prev}) by the weight that connects them, adds "
                      "the products and then its bias. The factors are the weights `L{layer}.W`, the inputs "
                      "{prev} and the biases `L{layer}.b`.",
    "activation": "`{id}` is layer {layer}'s output, a = {activation}(z): {shape}. Without a nonlinear "
                  "activation, stacked layers would collapse into one linear map.",
    "pool": "`{id}` pools each window of the feature maps into one number, keeping the strongest (max) or "
            "the average response, so the maps shrink and small shifts matter less.",
    "pool_mask": "`{id}` marks where each max-pool window's maximum was: only that position receives "
                 "the gradient on the way back.",
    "flatten": "`{id}` lays the feature maps out as one vector (channel, then row, then column) so a dense "
               "layer can read them.",
    "sample_losses": "`{id}` is the loss of each sample; the batch loss reduces them (mean by default).",
    "loss": "`{id}` is the loss: one number that says how far the prediction ŷ is from the target y. "
            "Training changes every parameter in the direction that makes it smaller.",
    "grad_activation": "`{id}` is ∂L/∂a for layer {layer}'s outputs: how much the loss changes when each "
                       "output changes. {grad_activation_detail}",
    "activation_derivative": "`{id}` is the slope of layer {layer}'s activation at its z: {slope}. It is "
                             "the local factor the chain rule multiplies by.",
    "delta": "`{id}` is δ = ∂L/∂z for layer {layer}: by the chain rule, (how the loss changes with the "
             "layer's output, ∂L/∂a) × (how the output changes with z, the activation's slope). δ is each "
             "neuron's share of the error, and every gradient of this layer is built from it.",
    "grad_weights": "`{id}` is ∂L/∂W for layer {layer} = δ·a_prevᵀ: a weight multiplies one input into "
                    "one neuron, so ∂z/∂w is that input, and the chain rule gives ∂L/∂w = δ of the "
                    "neuron × the input the weight multiplies ({prev}).",
    "grad_biases": "`{id}` is ∂L/∂b for layer {layer}: a bias is added to z with factor 1, so its gradient "
                   "is δ itself.",
    "updated_weights": "`{id}` is gradient descent on layer {layer}'s weights, W ← W − η·∂L/∂W: each weight "
                       "moves against its gradient, by η times it.",
    "updated_biases": "`{id}` is gradient descent on layer {layer}'s biases, b ← b − η·∂L/∂b.",
    "prediction": "`{id}` is the perceptron's output, ŷ = step(z): 1 when the weighted sum reaches the "
                  "threshold, else 0.",
    "error": "`{id}` is the perceptron's error y − ŷ: 0 when it is right, ±1 when it is wrong, and the "
             "perceptron rule moves the weights by η·(y − ŷ)·x.",
    "error_count": "`{id}` counts the misclassified samples in an epoch; 0 means the perceptron has "
                   "converged.",
}


def _prev(step) -> str:
    if step.layer is None or step.layer <= 1:
        return "the input `x`"
    return f"`L{step.layer - 1}.a`"


def _grad_activation_detail(step, trace) -> str:
    out_id = trace.info.get("output_id", "")
    if step.id == out_id.replace(".a", ".da") or not any(s.quantity == "delta" and (s.layer or 0) > (step.layer or 0)
                                                          for s in trace):
        return "At the output it comes straight from the loss (for ½·Σ(ŷ − y)² it is ŷ − y)."
    return (f"It is Wᵀ·δ of layer {(step.layer or 0) + 1}: each output's share of the next layer's error, "
            f"weighted by the weights it was multiplied by.")


def step_words(trace, step_id: str) -> str:
    """Why this step's formula is what it is and what each factor means, in words."""
    step = trace[step_id]
    template = TEMPLATES.get(step.quantity)
    if template is None:
        inputs = ", ".join(f"`{i}`" for i in step.inputs) or "the given values"
        return (f"`{step.id}` is the {step.label}: {step.formula}. It is computed from {inputs}."
                if step.op is not None else f"`{step.id}` is the {step.label}, given as {step.formula}.")
    return template.format(id=step.id, layer=step.layer, prev=_prev(step),
                           activation=step.activation or "f",
                           shape=ACTIVATION_SHAPE.get(step.activation or "", "it is applied to each z"),
                           slope=ACTIVATION_SLOPE.get(step.activation or "", "f′(z)"),
                           grad_activation_detail=_grad_activation_detail(step, trace)
                           if step.quantity == "grad_activation" else "")


def sign_words(trace, step_id: str, index: tuple | None, precision: int = 4) -> str:
    """Why one element of a gradient has its sign, from the factors that make it ('' when not a gradient)."""
    step = trace[step_id]
    if index is None or step.quantity not in ("grad_weights", "grad_biases"):
        return ""
    value = float(np.asarray(trace.display(step_id))[tuple(index)])
    delta_id = next((i for i in step.inputs if trace[i].quantity == "delta"), None)
    if delta_id is None:
        return ""
    delta = float(np.asarray(trace.display(delta_id)).reshape(-1)[index[0]])
    sign = "negative" if value < 0 else "positive" if value > 0 else "zero"
    if step.quantity == "grad_biases":
        return f"It is {sign} because it equals δ = {fmt_num(delta, precision)} (`{delta_id}`)."
    prev_id = next((i for i in step.inputs if i != delta_id), None)
    if prev_id is None or len(index) < 2:
        return ""
    a_prev = float(np.asarray(trace.display(prev_id)).reshape(-1)[index[1]])
    words = (f"It is {sign} because it is δ = {fmt_num(delta, precision)} (`{delta_id}`) times the input "
             f"{fmt_num(a_prev, precision)} (`{prev_id}`) this weight multiplies.")
    if value < 0:
        words += " A negative gradient means increasing this weight lowers the loss, so the update raises it."
    elif value > 0:
        words += " A positive gradient means increasing this weight raises the loss, so the update lowers it."
    return words
