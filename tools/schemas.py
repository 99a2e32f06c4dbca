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


class DenseLayerArgs(_Args):
    """One fully connected layer: z = W·a_prev + b, then the activation."""

    W: list[list[float]] = Field(max_length=16, description="weights, one row per neuron of this layer; row i "
                                                          "holds the weights INTO neuron i, one per input")
    b: list[float] = Field(max_length=16, description="biases, one per neuron of this layer")
    activation: Activation = Field(description="the activation of this layer")


class set_network(_Args):  # noqa: N801 - the class name is the tool name the model sees
    """The network the student described, in the engine's format. Copy every number exactly as the
    student wrote it; never compute or change one. List in `guessed` every value you assumed."""

    input: list[float] = Field(max_length=16, description="the input values x1, x2, ... in order")
    target: list[float] = Field(max_length=8, description="the target output(s)")
    layers: list[DenseLayerArgs] = Field(min_length=1, max_length=4,
                                         description="the layers from the first hidden layer to the output")
    loss: Loss = Field(description="half_sse = ½·Σ(ŷ−y)², sse = Σ(ŷ−y)², mse = mean, bce = binary "
                                   "cross-entropy, cross_entropy = categorical")
    learning_rate: float = Field(description="η for the gradient-descent update")
    guessed: list[str] = Field(max_length=6, description="values not stated by the student that you assumed")

    def to_spec(self) -> dict:
        """The engine's spec dict."""
        return {"input": list(self.input), "target": list(self.target),
                "layers": [{"dense": layer.model_dump()} for layer in self.layers],
                "loss": self.loss, "learning_rate": self.learning_rate}


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


NETWORK_TOOLS = ["forward_pass", "backprop", "update_step", "train", "gradcheck", "show_step", "conv_steps"]
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
