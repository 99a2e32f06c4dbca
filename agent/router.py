"""Rule-based routing: what a turn asks for, decided by code in both modes.

Slash commands, a pasted spec, a network described in words, pasted work, follow-ups on the last
check report or on the step in focus, hints, steps named in any notation, calculations such as
sigmoid(0.5), engine tools (train, gradient check), walkthroughs, greetings and concept questions
are all recognised here. Only a request about the loaded network that none of these rules reads
is "open": the LLM may choose engine tools for it (offline: the walkthrough of the phases named).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from nn_tutor.agent.names import Focus, find, follow_up
from nn_tutor.engine.errors import NNTError

HINT_WORDS = re.compile(r"\b(hint|stuck|clue|nudge|next step|help me (?:do|try|solve))\b", re.I)
WHY_WORDS = re.compile(r"\b(why|how|explain|expand|where does|show|what is|what's|whats)\b", re.I)
WALK_WORDS = re.compile(r"\b(walk ?through|walk|forward pass|forward|backward pass|backward|backprop\w*|"
                        r"gradients?|update|compute|calculate|solve|step by step|training step)\b", re.I)
REVEAL_WORDS = re.compile(r"\b(show|give|tell)( me)? the (answer|solution|worked step|result)\b", re.I)
YES = re.compile(r"^\s*(y|yes|yep|yeah|ok|okay|sure|go|go ahead|correct|right|do it|compute it)\b", re.I)
DESCRIBED_NET = re.compile(r"\b(\d+|one|two|three|four)\s+(inputs?|hidden|outputs?|neurons?|units?)\b", re.I)
# "name = number" or "= number = number": a worked line (the checker decides what it can verify)
WORKED_LINE = re.compile(r"=\s*[-−(]?\s*\d|\d\s*[-+×x*·/^]\s*\d.*=")
ARITHMETIC_CHAIN = re.compile(r"\d\s*[-+×*·/^]\s*[\d(σ]|[σ√]\s*\(.*=\s*[-−]?\d")
REPORT_WORDS = re.compile(r"\b(my (?:mistakes?|errors?|work|answers?)|mistakes?|what did i (?:get|do) wrong|"
                          r"where did i go wrong|(?:is|was) (?:line \d+|it) wrong|line \d+|wrong lines?)\b", re.I)
LINE_NUMBER = re.compile(r"\bline\s+(\d+)\b", re.I)
FOLLOW_UP = re.compile(r"^\s*(?:and|what about|how about|and what about|now|then)\b", re.I)
CALCULATION = re.compile(r"\b(sigmoid|σ|relu|tanh|softmax|leaky_relu)\s*\(\s*([-−+\d.,\s\[\]]+)\s*\)", re.I)
TRAIN = re.compile(r"\b(?:train|run|iterate|repeat)\w*\b[^.?!]*?\b(\d+)\s*(?:iterations?|steps?|epochs?|times|updates?)\b",
                   re.I)
GRADCHECK = re.compile(r"\b(gradient check|grad ?check|finite differences?|check (?:the |my |all )?gradients|"
                       r"numerical gradients?)\b", re.I)
CONV = re.compile(r"\b(feature maps?|pooling|max.?pool|convolution|filters?)\b", re.I)
GREETING = re.compile(r"^\s*(hi|hello|hey|good (?:morning|afternoon|evening)|thanks?|thank you|cheers|bye)\b[\s!.,]*"
                      r"(?:there|tutor|you|a lot)?[\s!.]*$", re.I)
ABOUT_NETWORK = re.compile(r"\b(this|my|the|our) (network|net|model)\b|\b(it|its)\b|\bthe (loss|prediction|output|"
                           r"weights?|biases?)\b", re.I)


@dataclass(frozen=True)
class Decision:
    """What the turn will do and why (the reason is shown in /trace)."""

    route: str  # load | confirm | explain | check | report | describe | calculate | tools | open | concept | greet
    reason: str
    mode: str | None = None  # explain mode: walkthrough | hint | why
    focus: Focus | None = None  # for why
    step: str | None = None  # for why, as the user wrote it (resolved later)
    phases: tuple[str, ...] | None = None  # for a partial walkthrough
    spec: dict | None = None  # for load, and the one-off spec of a calculation
    spec_name: str | None = None
    text: str | None = None  # for check
    reveal: bool = False  # hint: the worked step now (the student asked for the answer)
    line: int | None = None  # report: the line asked about
    tool: tuple[str, dict] | None = None  # tools: the engine tool to run


def from_request(request: dict) -> Decision:
    """A slash command, already parsed by the terminal, as a decision."""
    action = request.get("action")
    if action == "load":
        return Decision("load", f"/load {request.get('name', '')}".strip(), mode="walkthrough",
                        spec=request.get("spec"), spec_name=request.get("name"))
    if action == "walk":
        return Decision("explain", "/walk", mode="walkthrough", phases=request.get("phases"))
    if action == "hint":
        return Decision("explain", "/hint", mode="hint", reveal=bool(request.get("reveal")))
    if action == "why":
        return Decision("explain", f"/why {request.get('step', '')}", mode="why", step=request.get("step"))
    if action == "check":
        return Decision("check", f"/check {request.get('name', '')}".strip(), text=request.get("text", ""))
    raise NNTError(f"unknown request '{action}'; use load, walk, hint, why or check")


def pasted_spec(text: str) -> dict | None:
    """The spec if the text is a pasted YAML/JSON network (has layers or a kind), else None."""
    if not re.search(r"(^|\n)\s*(layers|kind)\s*:|^\s*\{", text):
        return None
    from nn_tutor.engine.spec import parse_text

    try:
        data = parse_text(text, "pasted spec")
    except NNTError:
        return None
    return data if ("layers" in data or "kind" in data) else None


def looks_worked(text: str) -> bool:
    """True for pasted work: at least two lines with a computed '= number', or one chain a = b = c."""
    lines = [ln for ln in text.splitlines() if WORKED_LINE.search(ln)]
    if len(lines) >= 2:
        return True
    return any(ln.count("=") >= 2 and re.search(r"\d", ln) for ln in lines)


def describes_network(text: str) -> bool:
    """True for a network described in words: weights and inputs or targets stated, no worked arithmetic
    (or a shape such as '2 inputs, 2 hidden neurons and 1 output' without numbers)."""
    from nn_tutor.tools.described.facts import read_facts

    if ARITHMETIC_CHAIN.search(text):
        return False
    facts = read_facts(text)
    weights = facts.neurons or facts.numbered or facts.matrices
    if weights and (facts.inputs or facts.targets):
        return True
    return bool(DESCRIBED_NET.search(text)) and not text.rstrip().endswith("?")


def phases_asked(text: str) -> tuple[str, ...] | None:
    """Which part of a walkthrough the text asks for (None = all of it)."""
    wanted: list[str] = []
    low = text.lower()
    if "forward" in low:
        wanted += ["given", "forward", "loss"]
    if re.search(r"backward|backprop|gradient", low):
        wanted += ["backward"]
    if re.search(r"\bupdate", low):
        wanted += ["update", "after"]
    return tuple(wanted) or None


def calculation(text: str) -> dict | None:
    """A one-off computation such as 'sigmoid(0.5)' or 'softmax([2, 1, 0.1])' as an engine spec."""
    m = CALCULATION.search(text)
    if not m:
        return None
    name = {"σ": "sigmoid"}.get(m.group(1), m.group(1).lower())
    values = [float(v.replace("−", "-")) for v in re.findall(r"[-−+]?\d*\.?\d+", m.group(2))]
    if not values:
        return None
    return {"kind": "activations", "title": f"{name}({', '.join(f'{v:g}' for v in values)})",
            "samples": [{"activation": name, "at": values}]}


def route_text(text: str, trace=None, pending_spec: bool = False, focus: Focus | None = None,
               has_report: bool = False) -> Decision:
    """Route free text by rules; `trace` is the loaded network's (None when none is loaded)."""
    has_spec = trace is not None
    if pending_spec and YES.match(text):
        return Decision("confirm", "the user confirmed the network read from their words")
    spec = pasted_spec(text)
    if spec is not None:
        return Decision("load", "a spec was pasted", mode="walkthrough", spec=spec, spec_name="pasted")
    if describes_network(text):
        return Decision("describe", "a network described in words", phases=phases_asked(text))
    if looks_worked(text):
        return Decision("check", "worked lines with '= number' were pasted", text=text)
    if has_report and REPORT_WORDS.search(text):
        line = LINE_NUMBER.search(text)
        return Decision("report", "a question about the last check", line=int(line.group(1)) if line else None)
    if has_spec and REVEAL_WORDS.search(text):
        return Decision("explain", "the worked step asked for", mode="hint", reveal=True)
    if has_spec and HINT_WORDS.search(text):
        return Decision("explain", "hint asked for", mode="hint")
    calc = calculation(text)
    if calc is not None:
        return Decision("calculate", f"a calculation: {calc['title']}", spec=calc)
    if has_spec:
        decision = _about_the_network(text, trace, focus)
        if decision is not None:
            return decision
    if GREETING.match(text):
        return Decision("greet", "a greeting")
    if DESCRIBED_NET.search(text) and not text.rstrip().endswith("?"):
        return Decision("describe", "a network described in words")
    return Decision("concept", "a question: look it up in the knowledge base")


def _about_the_network(text: str, trace, focus: Focus | None) -> Decision | None:
    """Rules for a turn when a network is loaded: a named step, a follow-up, a tool, a walkthrough."""
    if FOLLOW_UP.match(text) and len(text.split()) <= 8:
        found = follow_up(text, focus, trace)
        if found is not None:
            return Decision("explain", f"follow-up on {focus.label if focus else ''}: {found.label}",
                            mode="why", focus=found)
    found = find(text, trace)
    if found is not None and (WHY_WORDS.search(text) or text.strip().strip("?") == found.name):
        return Decision("explain", f"quantity {found.name or found.label} named", mode="why", focus=found)
    m = TRAIN.search(text)
    if m:
        return Decision("tools", f"training for {m.group(1)} iterations asked for",
                        tool=("train", {"iterations": int(m.group(1))}))
    if GRADCHECK.search(text):
        return Decision("tools", "a gradient check asked for", tool=("gradcheck", {}))
    if CONV.search(text) and any(s.id.endswith(".z") and s.value.ndim > 2 for s in trace):
        return Decision("tools", "convolution or pooling steps asked for", tool=("conv_steps", {}))
    if WALK_WORDS.search(text) and not text.rstrip().endswith("?") or re.search(r"\b(walk ?through|walk me)\b",
                                                                               text, re.I):
        return Decision("explain", "walkthrough asked for", mode="walkthrough", phases=phases_asked(text))
    if ABOUT_NETWORK.search(text) and not re.match(r"\s*(what|why|how) (is|are|do|does)\b(?! (it|the "
                                                   r"(loss|prediction|output)))", text, re.I):
        return Decision("open", "a request about the loaded network", phases=phases_asked(text))
    return None
