"""Tool argument models: each class docstring and Field description is exactly what the model reads.

The tool name is the key in TOOL_ARGS. Argument models are strict about types but small, so local
servers with plain tool calling (no JSON-schema output mode) can fill them in.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Activation = Literal["linear", "step", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"]
Loss = Literal["half_sse", "sse", "mse", "bce", "cross_entropy"]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DenseArgs(_Args):
    """A fully connected layer: z = W·a_prev + b, then the activation."""

    W: list[list[float]] = Field(description="weights, one row per neuron of this layer: shape (n_out, n_in); "
                                             "row i holds the weights INTO neuron i")
    b: list[float] = Field(description="biases, one per neuron of this layer (length n_out)")
    activation: Activation = Field("linear", description="activation applied to z")


class Conv2dArgs(_Args):
    """A 2-D convolution (cross-correlation) over a C×H×W input."""

    filters: list = Field(description="filters as nested lists of shape C_out×C_in×k×k")
    bias: list[float] = Field(description="one bias per filter (length C_out)")
    stride: int = Field(1, ge=1, description="step between filter positions")
    padding: int = Field(0, ge=0, description="zeros added on each border")


class PoolArgs(_Args):
    """A pooling window."""

    size: int = Field(2, ge=1, description="window side")
    stride: int = Field(2, ge=1, description="step between windows")


class LayerArgs(_Args):
    """One layer: fill in exactly one of the fields."""

    dense: DenseArgs | None = None
    conv2d: Conv2dArgs | None = None
    activation: Activation | None = Field(None, description="a separate activation layer (after conv2d)")
    maxpool: PoolArgs | None = None
    avgpool: PoolArgs | None = None
    flatten: dict | None = Field(None, description="{} to flatten C×H×W into a vector")


class NetworkArgs(_Args):
    """A network with its numbers, in the engine's spec format."""

    input: list = Field(description="one sample as a list of numbers (C×H×W nested lists for an image); "
                                    "a list of samples is a batch")
    target: list = Field(description="the target output for the sample, e.g. [1] or [1, 0]")
    layers: list[LayerArgs] = Field(description="the layers from input to output")
    loss: Loss = Field("half_sse", description="half_sse = ½·Σ(ŷ−y)², sse = Σ(ŷ−y)², mse = mean, "
                                               "bce = binary cross-entropy, cross_entropy = categorical")
    learning_rate: float = Field(0.5, gt=0, description="η for the gradient-descent update")
    title: str | None = Field(None, description="a short name for the problem (optional)")
    notes: list[str] | None = Field(None, description="remarks to show with the walkthrough (optional)")

    def to_spec(self) -> dict:
        """The engine's spec dict (layers as one-key mappings, empty fields dropped)."""
        spec = self.model_dump(exclude_none=True)
        spec["layers"] = [{k: v for k, v in layer.items()} for layer in spec["layers"]]
        return spec


class set_network(_Args):  # noqa: N801 - the class name is the tool name the model sees
    """Turn a network described in words or pasted numbers into the engine's spec. Call this first
    when the user describes a network; list every value you had to assume in `guessed`."""

    network: NetworkArgs
    guessed: list[str] = Field(default_factory=list,
                               description="values not stated by the user that you assumed, in words")


class forward_pass(_Args):  # noqa: N801
    """Compute the forward pass and the loss of the current network (dense or conv layers)."""


class backprop(_Args):  # noqa: N801
    """Compute every gradient of the current network: ∂L/∂ŷ, the δ terms, ∂L/∂W and ∂L/∂b per layer."""


class update_step(_Args):  # noqa: N801
    """Apply one gradient-descent update and report the new parameters and the new loss."""


class train(_Args):  # noqa: N801
    """Repeat forward, backward and update; report the loss at each iteration."""

    iterations: int = Field(10, ge=1, le=1000, description="how many update steps")


class conv_steps(_Args):  # noqa: N801
    """Show the convolution and pooling layers of the current network: feature maps, pooled maps,
    the routing of gradients through pooling, and the filter gradients."""


class gradcheck(_Args):  # noqa: N801
    """Check every backprop gradient of the current network against central finite differences."""


class show_step(_Args):  # noqa: N801
    """Write one element of one step out as a sum of products with its numbers."""

    step_id: str = Field(description="a step id such as L1.z, L2.delta, L1.dW, loss")
    index: list[int] = Field(default_factory=list, description="element index, e.g. [0] or [0, 1]; "
                                                               "empty for the whole step")


class check_homework(_Args):  # noqa: N801
    """Check a student's worked solution line by line with the deterministic checker."""

    text: str = Field(description="the student's work exactly as pasted")


class search_concepts(_Args):  # noqa: N801
    """Look up concept cards in the course knowledge base."""

    query: str = Field(description="the question in a few words")


class ClaimArgs(_Args):
    """One value the student computed."""

    quantity: str = Field(description="what was computed, in the student's notation or as a step id: "
                                      "net_h1, out_o1, ŷ, L, δ2, ∂L/∂w5, w5_new, L1.z[0]")
    value: float = Field(description="the number the student wrote for it, exactly as written")
    line: int = Field(ge=1, description="the line of the student's text it is on (1-based)")


class record_claims(_Args):  # noqa: N801
    """Record every value the student computed in their worked solution, in order. Do not judge,
    correct or compute anything: the checker does that."""

    claims: list[ClaimArgs]


TOOL_ARGS: dict[str, type[BaseModel]] = {
    cls.__name__: cls
    for cls in (set_network, forward_pass, backprop, update_step, conv_steps, train, gradcheck, show_step,
                check_homework, search_concepts)
}


def tool_definition(model: type[BaseModel]) -> dict:
    """One tool in OpenAI's function-calling format: the class name, docstring and argument schema."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return {"type": "function", "function": {
        "name": model.__name__, "description": " ".join((model.__doc__ or "").split()), "parameters": schema}}


def openai_tool_definitions(names: list[str] | None = None) -> list[dict]:
    """The orchestrator's tools in OpenAI's function-calling format (what bind_tools sends)."""
    return [tool_definition(model) for name, model in TOOL_ARGS.items() if names is None or name in names]
