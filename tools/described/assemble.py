"""Facts -> the engine's spec: decide the layer sizes, place every weight, and name every guess.

One hidden layer (h1, h2, ...) and an output layer (o1, ...), or a single layer of output neurons, or
one neuron from loose weights ("weights 0.5 and -1"), or layers written as matrices (W1 = [[...]],
W2 = ...). Numbered weights w1…wN are placed by their "from x1" / "x1 -> h1" notes, else neuron by
neuron (w1: x1→h1, w2: x2→h1, ...: the numbering the checker uses), which is a guess the tutor shows.
A gap is filled only by a stated default (bias 0, sigmoid, ½·Σ(ŷ − y)², η = 0.5), always listed in
`guessed`; what cannot be filled is `missing`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nn_tutor.tools.described.facts import Facts, Neuron

DEFAULT_ACTIVATION = "sigmoid"
DEFAULT_LOSS = "half_sse"
DEFAULT_LEARNING_RATE = 0.5


@dataclass
class Reading:
    """The spec read from words (None when something essential is missing), and what was assumed."""

    spec: dict | None
    guessed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when the text stated everything: nothing guessed, nothing missing."""
        return self.spec is not None and not self.guessed and not self.missing


def assemble(facts: Facts) -> Reading:
    """The spec for these facts, or the list of what is missing."""
    guessed: list[str] = []
    missing: list[str] = []
    inputs = _ordered(facts.inputs)
    if not inputs:
        missing.append("the inputs (e.g. 'inputs x1 = 0.5, x2 = 0.8')")
    targets = _ordered(facts.targets)
    layers = _layers(facts, len(inputs), guessed, missing) if inputs else []
    if not layers and not (facts.neurons or facts.numbered or facts.matrices or facts.loose_weights):
        missing.append("the weights (e.g. 'h1 has weights 0.15 and 0.20')")
    if layers and not targets:
        missing.append("the target (e.g. 'target 1')")
    elif layers and len(targets) != len(layers[-1]["W"]):
        missing.append(f"one target per output neuron: {len(layers[-1]['W'])} outputs but "
                       f"{len(targets)} target value(s)")
    if missing or not layers:
        return Reading(None, guessed, missing or ["the weights (e.g. 'h1 has weights 0.15 and 0.20')"])
    _activations(facts, layers, guessed)
    spec = {"input": inputs, "target": targets, "layers": [{"dense": layer} for layer in layers],
            "loss": _loss(facts, layers, guessed), "learning_rate": _learning_rate(facts, guessed)}
    return Reading(spec, guessed, [])


def _ordered(values: dict[int, float]) -> list[float]:
    return [values[k] for k in sorted(values)]


# layers --------------------------------------------------------------------------------------
def _layers(facts: Facts, n_in: int, guessed: list[str], missing: list[str]) -> list[dict]:
    """[{W, b}] from matrices, named neurons or numbered weights, whichever the text used."""
    if facts.matrices:
        return _from_matrices(facts, guessed, missing)
    if facts.loose_weights and not facts.counts.get("hidden") and len(facts.targets) <= 1:
        return _single_neuron(facts, n_in, guessed, missing)
    hidden, outputs = _neuron_names(facts)
    if not outputs:
        return []
    sizes = [n_in] + ([len(hidden)] if hidden else []) + [len(outputs)]
    groups = ([hidden] if hidden else []) + [outputs]
    numbering = _numbered_rows(facts, sizes, groups, guessed)
    layers = []
    for depth, names in enumerate(groups):
        n_prev = sizes[depth]
        prev_prefix = "x" if depth == 0 else "h"
        rows = []
        for name in names:
            neuron = facts.neurons.get(name)
            row = _row(neuron, n_prev, prev_prefix) if neuron and neuron.weights else numbering.get(name)
            if row is None or len(row) != n_prev:
                found = len(neuron.weights) if neuron and neuron.weights else len(row or [])
                missing.append(f"{name} needs {n_prev} weight(s), one from each of "
                               f"{', '.join(f'{prev_prefix}{k}' for k in range(1, n_prev + 1))}; found {found}")
                continue
            rows.append(row)
        layers.append({"W": rows, "b": _biases(facts, names, "hidden" if _is_hidden(names) else "output",
                                                depth, len(groups), guessed)})
    return [] if missing else layers


def _single_neuron(facts: Facts, n_in: int, guessed: list[str], missing: list[str]) -> list[dict]:
    """One neuron from loose weights ('weights 0.5 and -1, bias 1'): one weight per input."""
    weights = facts.loose_weights
    if len(weights) != n_in:
        missing.append(f"one weight per input: {n_in} inputs but {len(weights)} weight(s)")
        return []
    return [{"W": [list(weights)], "b": _biases(facts, ["o1"], "output", 0, 1, guessed)}]


def _is_hidden(names: list[str]) -> bool:
    return bool(names) and names[0].startswith("h")


def _neuron_names(facts: Facts) -> tuple[list[str], list[str]]:
    """Hidden and output neuron names: those mentioned, else as many as the counts or sizes say."""
    mentioned = set(facts.neurons) | {d for _, _, d in facts.numbered.values() if d} | \
        {s for _, s, _ in facts.numbered.values() if s and s.startswith("h")}
    for neuron in facts.neurons.values():
        mentioned |= {s for s in neuron.sources if s and s.startswith("h")}
    n_hidden = facts.counts.get("hidden") or (facts.sizes[1] if len(facts.sizes) == 3 else 0)
    n_out = facts.counts.get("output") or (facts.sizes[-1] if facts.sizes else 0)
    n_hidden = max(n_hidden, *(int(n[1:]) for n in mentioned if n.startswith("h")), 0)
    n_out = max(n_out, *(int(n[1:]) for n in mentioned if n.startswith("o")), 0)
    if not n_out and (facts.numbered or n_hidden):
        n_out = max(1, len(facts.targets))
    n_in = len(facts.inputs) or (facts.sizes[0] if facts.sizes else 0)
    if facts.numbered and not n_hidden and n_in and len(facts.numbered) > n_in * n_out:
        # w1…wN with no hidden neuron named: N = n_in·h + h·n_out gives the hidden width h
        width, rest = divmod(len(facts.numbered), n_in + n_out)
        n_hidden = width if not rest else 0
    return [f"h{k}" for k in range(1, n_hidden + 1)], [f"o{k}" for k in range(1, n_out + 1)]


def _row(neuron: Neuron, n_prev: int, prev_prefix: str) -> list[float] | None:
    """The weights into a neuron ordered by source (x1, x2, ...), as written when no source is named."""
    if all(s is None for s in neuron.sources):
        return list(neuron.weights)
    row: list[float | None] = [None] * n_prev
    for k, (w, s) in enumerate(zip(neuron.weights, neuron.sources)):
        slot = int(s[1:]) - 1 if s else k
        if not 0 <= slot < n_prev or row[slot] is not None:
            return None
        row[slot] = w
    return None if any(v is None for v in row) else row  # type: ignore[return-value]


def _numbered_rows(facts: Facts, sizes: list[int], groups: list[list[str]], guessed: list[str]) -> dict:
    """Rows from w1…wN: placed by their notes, else neuron by neuron in order (a named guess)."""
    if not facts.numbered:
        return {}
    slots = [(name, prefix, k) for depth, names in enumerate(groups) for name in names
             for prefix, k in ((("x" if depth == 0 else "h"), k) for k in range(1, sizes[depth] + 1))]
    rows: dict[str, list] = {name: [None] * sizes[d] for d, names in enumerate(groups) for name in names}
    unnoted = []
    for number in sorted(facts.numbered):
        value, source, dest = facts.numbered[number]
        if source and dest and dest in rows and 0 < int(source[1:]) <= len(rows[dest]):
            rows[dest][int(source[1:]) - 1] = value
        else:
            unnoted.append(number)
    if unnoted:
        for number in unnoted:
            if number - 1 < len(slots):
                name, _, k = slots[number - 1]
                if rows[name][k - 1] is None:
                    rows[name][k - 1] = facts.numbered[number][0]
        order = ", ".join(f"w{i + 1}: {p}{k}→{n}" for i, (n, p, k) in enumerate(slots[:4]))
        guessed.append(f"numbered weights read neuron by neuron ({order}, ...)")
    return {name: row for name, row in rows.items() if all(v is not None for v in row)}


def _biases(facts: Facts, names: list[str], layer_word: str, depth: int, n_layers: int,
            guessed: list[str]) -> list[float]:
    """One bias per neuron: stated per neuron, per layer (b1 hidden, b2 output), or 0 (a guess)."""
    per_neuron = [facts.neurons[n].bias if n in facts.neurons else None for n in names]
    if all(b is not None for b in per_neuron):
        return per_neuron  # type: ignore[return-value]
    shared = facts.layer_biases.get(layer_word)
    if shared is None:
        for number, (value, word) in facts.numbered_biases.items():
            if word == layer_word or (word is None and number == depth + 1 and
                                      len(facts.numbered_biases) == n_layers):
                shared = value
    if shared is None and len(facts.loose_biases) == n_layers:
        shared = facts.loose_biases[depth]
    if shared is not None:
        return [b if b is not None else shared for b in per_neuron]
    if not facts.no_bias:
        guessed.append(f"bias 0 for {', '.join(n for n, b in zip(names, per_neuron) if b is None)} (not stated)")
    return [b if b is not None else 0.0 for b in per_neuron]


def _from_matrices(facts: Facts, guessed: list[str], missing: list[str]) -> list[dict]:
    layers = []
    for index in sorted(facts.matrices):
        W = facts.matrices[index]
        b = facts.vectors.get(index)
        if b is None:
            b = [0.0] * len(W)
            if not facts.no_bias:
                guessed.append(f"bias 0 for layer {index} (not stated)")
        layers.append({"W": W, "b": b})
    return layers


# activations, loss, learning rate ----------------------------------------------------------------
def _activations(facts: Facts, layers: list[dict], guessed: list[str]) -> None:
    acts = facts.activations
    unscoped = facts.unscoped_activations
    for depth, layer in enumerate(layers):
        word = "output" if depth == len(layers) - 1 else "hidden"
        name = acts.get(word) or acts.get("all")
        if name is None and unscoped:
            name = unscoped[0] if len(unscoped) == 1 else unscoped[min(depth, len(unscoped) - 1)]
            if len(unscoped) > 1:
                guessed.append(f"{name} read as the {word} layer's activation (named in that order)")
        if name is None:
            name = DEFAULT_ACTIVATION
            guessed.append(f"{DEFAULT_ACTIVATION} activation for the {word} layer (not stated)")
        layer["activation"] = name


def _loss(facts: Facts, layers: list[dict], guessed: list[str]) -> str:
    if facts.loss is None:
        guessed.append("loss ½·Σ(ŷ − y)² (not stated)")
        return DEFAULT_LOSS
    if facts.loss_guess:
        guessed.append(facts.loss_guess)
    if facts.loss == "cross_entropy" and len(layers[-1]["W"]) == 1:
        return "bce"  # one output: the cross-entropy of a single probability is the binary one
    return facts.loss


def _learning_rate(facts: Facts, guessed: list[str]) -> float:
    if facts.learning_rate is None:
        guessed.append(f"learning rate η = {DEFAULT_LEARNING_RATE} (not stated)")
        return DEFAULT_LEARNING_RATE
    return facts.learning_rate
