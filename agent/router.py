"""Rule-based routing: what to do with a turn without an LLM (and before asking one, when obvious).

Spec pasted or loaded -> walkthrough; worked solution pasted -> check; hint words -> Socratic
ladder; a step id with "why" -> that step expanded; a question -> the knowledge base.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from nn_tutor.engine.errors import NNTError

STEP_ID = re.compile(r"(?<![\w.])((?:after\.)?L\d+\.(?:z|a|da|dadz|delta|dW|db|W_new|b_new|W|b)|"
                     r"(?:after\.)?loss|x|y|lr)(?![\w.])")
# a quantity as students name it: w5, net_h1, out_o1, δ_o1, dE/dw5, w5_new (letters with a digit)
STUDENT_NAME = re.compile(r"(?<![\w.])([A-Za-zδ∂ŷ][\w/∂]*\d[\w/∂]*)(?![\w.])")
HINT_WORDS = re.compile(r"\b(hint|stuck|clue|nudge|next step|help me (?:do|try|solve))\b", re.I)
WHY_WORDS = re.compile(r"\b(why|how|explain|expand|where does|show)\b", re.I)
WALK_WORDS = re.compile(r"\b(walk ?through|walk|forward pass|forward|backward pass|backward|backprop\w*|"
                        r"gradients?|update|compute|calculate|solve|step by step)\b", re.I)
REVEAL_WORDS = re.compile(r"\b(show|give|tell)( me)? the (answer|solution|worked step|result)\b", re.I)
YES = re.compile(r"^\s*(y|yes|yep|yeah|ok|okay|sure|go|go ahead|correct|right|do it|compute it)\b", re.I)
DESCRIBED_NET = re.compile(r"\b(\d+|one|two|three|four)\s+(inputs?|hidden|outputs?|neurons?|units?)\b", re.I)
# "name = number" or "= number = number": a worked line (the checker decides what it can verify)
WORKED_LINE = re.compile(r"=\s*[-−(]?\s*\d|\d\s*[-+×x*·/^]\s*\d.*=")


@dataclass(frozen=True)
class Decision:
    """What the turn will do and why (the reason is shown in /trace)."""

    route: str  # load | explain | check | concept | describe | confirm
    reason: str
    mode: str | None = None  # explain mode: walkthrough | hint | why
    step: str | None = None  # for why
    phases: tuple[str, ...] | None = None  # for a partial walkthrough
    spec: dict | None = None  # for load
    spec_name: str | None = None
    text: str | None = None  # for check
    reveal: bool = False  # hint: the worked step now (the student asked for the answer)


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


def phases_asked(text: str) -> tuple[str, ...] | None:
    """Which part of a walkthrough the text asks for (None = all of it)."""
    wanted: list[str] = []
    low = text.lower()
    if "forward" in low:
        wanted += ["given", "forward", "loss"]
    if re.search(r"backward|backprop|gradient", low):
        wanted += ["backward"]
    if "update" in low:
        wanted += ["update", "after"]
    return tuple(wanted) or None


def route_text(text: str, has_spec: bool, pending_spec: bool = False) -> Decision:
    """Route free text by rules: the offline router, and the LLM mode's shortcut for obvious turns."""
    if pending_spec and YES.match(text):
        return Decision("confirm", "the user confirmed the extracted network")
    spec = pasted_spec(text)
    if spec is not None:
        return Decision("load", "a spec was pasted", mode="walkthrough", spec=spec, spec_name="pasted")
    if looks_worked(text):
        return Decision("check", "worked lines with '= number' were pasted", text=text)
    if has_spec and REVEAL_WORDS.search(text):
        return Decision("explain", "the worked step asked for", mode="hint", reveal=True)
    if has_spec and HINT_WORDS.search(text):
        return Decision("explain", "hint asked for", mode="hint")
    step = STEP_ID.search(text)
    if has_spec and step and (WHY_WORDS.search(text) or text.strip() == step.group(1)):
        return Decision("explain", f"step {step.group(1)} named", mode="why", step=step.group(1))
    name = STUDENT_NAME.search(text)
    if has_spec and name and WHY_WORDS.search(text):
        return Decision("explain", f"quantity {name.group(1)} named", mode="why", step=name.group(1))
    if has_spec and WALK_WORDS.search(text) and not text.rstrip().endswith("?") or (
            has_spec and re.search(r"\b(walk ?through|walk me)\b", text, re.I)):
        return Decision("explain", "walkthrough asked for", mode="walkthrough", phases=phases_asked(text))
    if DESCRIBED_NET.search(text) and not text.rstrip().endswith("?"):
        return Decision("describe", "a network described in words (needs the numbers as a spec offline)")
    return Decision("concept", "a question: look it up in the knowledge base")
