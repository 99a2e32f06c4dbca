"""Words -> facts: every number a description states, with what it is (input, weight into h1 from x2,
bias of the output layer, learning rate...), and the activations and loss it names.

Nothing here decides the network's shape or fills a gap; `assemble` does that. Names are read as the
course writes them: x1/i1 inputs, h1 hidden and o1 output neurons, w1…w8 numbered weights, b1 biases,
t1/y targets, η or "learning rate"; unicode subscripts (x₁, w₅) and arrows (x1→h1) are understood.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

NUM = r"(?<![\w.])-?(?:\d+(?:\.\d+)?|\.\d+)(?![\w])"
NUMS = rf"{NUM}(?:\s*(?:,|;|and|&)\s*{NUM})*"
COUNT_WORDS = {"one": 1, "a": 1, "an": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
COUNT = r"(\d+|one|two|three|four|five|six|a|an|single)"
ACTIVATION_WORDS = [  # longest first: "leaky relu" before "relu"
    (r"leaky[\s_-]?relu", "leaky_relu"), (r"relu|rectified linear", "relu"),
    (r"sigmoid|logistic|σ", "sigmoid"), (r"tanh|hyperbolic tangent", "tanh"), (r"softmax", "softmax"),
    (r"identity|no activation|linear(?= (?:activation|output|unit|neuron|function|layer))|"
     r"(?<=is )linear\b|(?<=are )linear\b", "linear"),
    (r"heaviside|step (?:function|activation)|threshold (?:function|activation)", "step"),
]
LOSS_WORDS = [  # (pattern, loss, guessed-or-None), first match wins: half before the plain sum
    (r"binary cross.?entropy|\bbce\b|log.?loss", "bce", None),
    (r"cross.?entropy", "cross_entropy", None),
    (r"mean squared error|mean square error|\bmse\b", "mse", None),
    (r"(?:½|1/2|half|one half)[^.;]{0,30}squared|squared error[^.;]{0,20}(?:½|1/2|half)|"
     r"(?:½|1/2)\s*(?:sum)?\s*\([^)]*\)\s*(?:²|\^\s*2)", "half_sse", None),
    (r"sum of (?:the )?squared errors|sum of squares|\bsse\b", "sse", None),
    (r"\bsum\s*\([^)]*\)\s*(?:²|\^\s*2)", "sse", None),
    (r"squared error|squared loss|quadratic loss|l2 loss|squared difference", "half_sse",
     "loss read as ½·Σ(ŷ − y)² (say 'sum of squared errors' for Σ(ŷ − y)², 'mean squared error' for the mean)"),
]


@dataclass
class Neuron:
    """The weights into one named neuron (h1, o2), in the order written, and its bias if stated."""

    name: str
    weights: list[float] = field(default_factory=list)
    sources: list[str | None] = field(default_factory=list)  # x1, h2 ... when the text says "from x1"
    bias: float | None = None


@dataclass
class Facts:
    """What a description states, before any shape is decided."""

    inputs: dict[int, float] = field(default_factory=dict)     # x1 -> 0.5 (1-based)
    targets: dict[int, float] = field(default_factory=dict)    # t1 -> 1
    neurons: dict[str, Neuron] = field(default_factory=dict)   # h1, o1 -> weights into it
    numbered: dict[int, tuple[float, str | None, str | None]] = field(default_factory=dict)  # w5 -> (v, from, to)
    numbered_biases: dict[int, tuple[float, str | None]] = field(default_factory=dict)  # b1 -> (v, layer word)
    layer_biases: dict[str, float] = field(default_factory=dict)  # "hidden"/"output" -> shared bias
    loose_biases: list[float] = field(default_factory=list)   # "biases 0.35 and 0.60": one per layer
    loose_weights: list[float] = field(default_factory=list)  # "weights 0.5 and -1" with no neuron named
    matrices: dict[int, list] = field(default_factory=dict)    # W1 = [[...]] as written
    vectors: dict[int, list] = field(default_factory=dict)     # b1 = [...] as written
    sizes: list[int] = field(default_factory=list)             # 2-2-1
    counts: dict[str, int] = field(default_factory=dict)       # input/hidden/output -> how many
    activations: dict[str, str] = field(default_factory=dict)  # hidden/output/all -> name
    unscoped_activations: list[str] = field(default_factory=list)  # named with no layer, in order
    loss: str | None = None
    loss_guess: str | None = None
    learning_rate: float | None = None
    no_bias: bool = False


def normalise(text: str) -> str:
    """Lower case, subscripts and arrows as plain characters, dashes as minus."""
    table = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
    text = text.translate(table).replace("Σ", " sum ").replace("∑", " sum ").replace("−", "-").replace("–", "-").replace("→", "->").replace("⟶", "->")
    text = re.sub(r"hidden (?:neuron|unit|node)\s*#?\s*(\d)", r"h\1", text, flags=re.I)
    text = re.sub(r"output (?:neuron|unit|node)\s*#?\s*(\d)", r"o\1", text, flags=re.I)
    text = re.sub(r"\b(input)\s*#?\s*(\d)\b(?!\s*(?:inputs|hidden|neurons|units))", r"x\2", text, flags=re.I)
    text = re.sub(r"\bi(\d)\b", r"x\1", text)
    return text.lower()


def _num(s: str) -> float:
    return float(s)


def _nums(s: str) -> list[float]:
    return [float(v) for v in re.findall(NUM, s)]


def _count(word: str) -> int:
    return int(word) if word.isdigit() else COUNT_WORDS[word]


def read_facts(text: str) -> Facts:
    """Every fact the text states (see the module docstring)."""
    t = normalise(text)
    facts = Facts()
    _read_matrices(t, facts)
    t = re.sub(r"\b[wb]\s*_?\d\s*(?:=|:|is)\s*\[[\[\]\d\s.,-]*\]", " ", t)  # read above; not loose numbers
    _read_sizes(t, facts)
    _read_inputs_targets(t, facts)
    _read_neurons(t, facts)
    _read_numbered(t, facts)
    _read_biases(t, facts)
    _read_loose_weights(t, facts)
    _read_activations(t, facts)
    _read_loss_and_rate(t, facts)
    return facts


def _bracketed(t: str, start: int) -> str:
    """The balanced [...] that starts at `start` ('' when the brackets do not close)."""
    depth = 0
    for i in range(start, min(len(t), start + 2000)):
        depth += {"[": 1, "]": -1}.get(t[i], 0)
        if depth == 0:
            return t[start:i + 1]
    return ""


def _read_matrices(t: str, facts: Facts) -> None:
    for m in re.finditer(r"\b([wb])\s*(?:\^?\[(\d)\]|_?(\d))\s*(?:=|:|is)\s*(?=\[)", t):
        index = int(m.group(2) or m.group(3))
        try:
            value = json.loads(_bracketed(t, m.end()))
        except ValueError:
            continue
        if m.group(1) == "w" and isinstance(value, list) and value and isinstance(value[0], list):
            facts.matrices[index] = value
        elif m.group(1) == "b" and isinstance(value, list):
            facts.vectors[index] = value


def _read_sizes(t: str, facts: Facts) -> None:
    m = re.search(r"(?<![\w.-])(\d+)(?:\s*-\s*(\d+)){2,}(?![\w.])", t)
    if m:
        facts.sizes = [int(v) for v in re.findall(r"\d+", m.group(0))]
    for m in re.finditer(COUNT + r"\s+(?:hidden\s+)?(inputs?|hidden|outputs?)\b", t):
        kind = m.group(2).rstrip("s")
        if "hidden" in m.group(0) and kind != "hidden":
            kind = "hidden"
        facts.counts[kind] = _count(m.group(1))
    m = re.search(r"hidden layer (?:of|with) " + COUNT + r"\s+(?:neurons?|units?|nodes?)", t)
    if m:
        facts.counts["hidden"] = _count(m.group(1))
    m = re.search(COUNT + r"\s+(?:neurons?|units?|nodes?) in the hidden layer", t)
    if m:
        facts.counts["hidden"] = _count(m.group(1))


def _read_inputs_targets(t: str, facts: Facts) -> None:
    for m in re.finditer(rf"\bx\s*_?(\d)\s*(?:=|:|is|of)\s*({NUM})", t):
        facts.inputs[int(m.group(1))] = _num(m.group(2))
    if not facts.inputs:
        m = re.search(rf"\b(?:inputs?|x)\b(?:\s+(?:values?|vector|are|is|of|x))*\s*(?:=|:)?\s*[\[(]?\s*({NUMS})", t)
        if m:
            facts.inputs = dict(enumerate(_nums(m.group(1)), 1))
    for m in re.finditer(rf"\b(?:t|target|y)\s*_?(\d)\s*(?:=|:|is|of)\s*({NUM})", t):
        facts.targets[int(m.group(1))] = _num(m.group(2))
    for m in re.finditer(rf"({NUM})\s+for\s+o(\d)", t):  # "target 0.01 for o1 and 0.99 for o2"
        if re.search(r"target|desired|expected", t[max(0, m.start() - 60):m.start()]):
            facts.targets[int(m.group(2))] = _num(m.group(1))
    if not facts.targets:
        m = re.search(rf"\b(?:targets?|y|t|labels?|desired (?:outputs?|values?)|expected (?:outputs?|values?)|"
                      rf"true (?:labels?|values?|outputs?))\b(?:\s+(?:outputs?|values?|is|are|of|should be|y|t))*"
                      rf"\s*(?:=|:)?\s*[\[(]?\s*({NUMS})", t)
        if m:
            facts.targets = dict(enumerate(_nums(m.group(1)), 1))


NEURON_START = re.compile(r"(?<![\w(])(?<!from )(?<!to )(?<!-> )(?<!->)([ho]\d|the output neuron|the output"
                          r"(?= (?:neuron|unit|node|has|gets|receives|takes|weights))|a single neuron|the neuron|"
                          r"one neuron)\b(?='s|\s*(?::|has|have|gets|receives|takes|with|weights|uses|\(|neuron|"
                          r"unit|node|is))")


def _neuron_name(raw: str) -> str:
    return raw if re.fullmatch(r"[ho]\d", raw) else "o1"


def _read_neurons(t: str, facts: Facts) -> None:
    """'h1 has weights 0.15 (from x1) and 0.20 (from x2), bias 0.35; h2 ...': one segment per neuron."""
    starts = [m for m in NEURON_START.finditer(t)]
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(t)
        segment = t[m.end():end]
        stop = re.search(r"\.(?:\s|$)|\b(?:inputs?|targets?|learning rate|η|loss|all neurons|every neuron)\b",
                         segment)
        segment = segment[:stop.start()] if stop else segment
        bias = re.search(rf"bias(?:es)?\s*(?:of|=|:|is)?\s*({NUM})", segment)
        weights_part = segment[:bias.start()] if bias else segment
        weights_part = re.sub(r"\b(?:sigmoid|relu|tanh|linear|softmax)\b.*", "", weights_part)
        weights, sources = [], []
        for w in re.finditer(rf"({NUM})\s*(?:\(\s*(?:from\s+)?([xh]\d)\s*\)|(?:from|for)\s+([xh]\d))?", weights_part):
            weights.append(_num(w.group(1)))
            sources.append(w.group(2) or w.group(3))
        if not weights and bias is None:
            continue
        name = _neuron_name(m.group(1))
        neuron = facts.neurons.setdefault(name, Neuron(name))
        if weights:
            neuron.weights, neuron.sources = weights, sources
        if bias:
            neuron.bias = _num(bias.group(1))


def _read_numbered(t: str, facts: Facts) -> None:
    """w5 = 0.40, optionally with where it goes: (h1 -> o1), from h1 to o1, x1→h1."""
    for m in re.finditer(rf"\bw\s*_?(\d+)\s*(?:=|:|is)\s*({NUM})", t):
        after = t[m.end():m.end() + 30]
        route = re.match(r"\s*\(?\s*(?:from\s+)?([xh]\d)\s*(?:->|to|into)\s*([ho]\d)", after)
        source = re.match(r"\s*\(?\s*from\s+([xh]\d)", after)
        facts.numbered[int(m.group(1))] = (_num(m.group(2)), route.group(1) if route else
                                           (source.group(1) if source else None), route.group(2) if route else None)


def _read_biases(t: str, facts: Facts) -> None:
    if re.search(r"\bno bias(?:es)?\b|\bwithout bias(?:es)?\b|\bbias(?:es)? (?:are|is) (?:zero|0)\b", t):
        facts.no_bias = True
    for m in re.finditer(rf"\bb\s*_?(\d)\s*(?:=|:|is)\s*({NUM})", t):
        after = t[m.end():m.end() + 40]
        layer = re.match(r"\s*\(?\s*(?:for\s+)?(?:the\s+)?(hidden|output)", after)
        facts.numbered_biases[int(m.group(1))] = (_num(m.group(2)), layer.group(1) if layer else None)
    for m in re.finditer(rf"(hidden|output)(?: layer)?(?: neurons?| units?)?(?:'s)? bias(?:es)?\s*"
                         rf"(?:of|=|:|is|are)?\s*({NUM})", t):
        facts.layer_biases[m.group(1)] = _num(m.group(2))
    for m in re.finditer(rf"bias(?:es)?\s*(?:of|=|:|is)?\s*({NUM})\s*(?:for|on|in|at)\s*(?:the\s*)?(hidden|output)", t):
        facts.layer_biases[m.group(2)] = _num(m.group(1))
    if not (facts.numbered_biases or facts.layer_biases):
        m = re.search(rf"\bbias(?:es)?\s*(?:are|is|of|=|:)?\s*({NUMS})", t)
        if m and not any(n.bias is not None for n in facts.neurons.values()):
            facts.loose_biases = _nums(m.group(1))


def _read_loose_weights(t: str, facts: Facts) -> None:
    """'weights 0.5 and -1' when no neuron, numbered weight or matrix is given: one neuron's weights."""
    if facts.neurons or facts.numbered or facts.matrices:
        return
    m = re.search(rf"\bweights?\s*(?:are|is|of|=|:)?\s*[\[(]?\s*({NUMS})", t)
    if m:
        facts.loose_weights = _nums(m.group(1))


def _read_activations(t: str, facts: Facts) -> None:
    for clause in re.split(r"[,;.]\s|\band\b|\bbut\b|\bwhile\b|\bwith\b", t):
        for pattern, name in ACTIVATION_WORDS:
            if not re.search(rf"(?<![\w(]){pattern}(?![\w(])", clause):
                continue
            if re.search(r"\b(?:all|every|everywhere|throughout|both layers|each neuron|all layers)\b", clause):
                facts.activations["all"] = name
            elif "hidden" in clause or re.search(r"\bh\d\b", clause):
                facts.activations["hidden"] = name
            elif "output" in clause or re.search(r"\bo\d\b", clause):
                facts.activations["output"] = name
            else:
                facts.unscoped_activations.append(name)
            break


def _read_loss_and_rate(t: str, facts: Facts) -> None:
    for pattern, loss, guess in LOSS_WORDS:
        if re.search(pattern, t):
            facts.loss, facts.loss_guess = loss, guess
            break
    m = re.search(rf"(?:learning rate|η|\beta\b|\blr\b|step size|\balpha\b|α)\s*(?:of|=|:|is|to be|equal to)?\s*({NUM})", t)
    if m:
        facts.learning_rate = _num(m.group(1))
