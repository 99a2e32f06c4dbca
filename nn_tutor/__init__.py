"""nn-tutor in Python: load a spec, walk through it, render it, check worked homework, ask a question.

    import nn_tutor as nnt

    spec = nnt.load_spec("examples/r2_two_layer_sigmoid.yaml")  # a file, YAML/JSON text, or a dict
    w = nnt.walk(spec)              # in Jupyter it displays with the formulas typeset
    w["L2.delta"]                   # a step's value (NumPy, float64)
    print(w.step("L1.dW"))          # one step, every element written out
    tex = nnt.render(w, "latex")    # text, markdown, latex (a document), json
    report = nnt.check("z = 0.15×0.5 + 0.2×0.8 + 0.35 = 0.595", spec)
    nnt.ask("what is RAG?")         # offline unless an LLM is configured; cites the cards it uses

Every number is computed by the NumPy engine; bad input raises NNTError with a one-line message that
names the fix. The code lives in nn_tutor.engine, nn_tutor.tools and nn_tutor.agent (mapped from the
checkout's top-level folders), so a student's own tools.py or agent.py next to a notebook cannot
shadow it. Importing this package is cheap: each function imports what it needs when called.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["load_spec", "walk", "render", "check", "ask", "list_examples", "NNTError"]


def __getattr__(name: str):
    if name == "NNTError":
        from nn_tutor.engine.errors import NNTError

        return NNTError
    raise AttributeError(f"module 'nn_tutor' has no attribute {name!r}")


def load_spec(source) -> dict:
    """A network spec as a dict, from a file path, YAML/JSON text, or a dict (copied).

    `examples/NAME.yaml` finds the examples shipped with nn-tutor when no such file is here.
    """
    from nn_tutor.engine.errors import NNTError
    from nn_tutor.engine.spec import load_spec as load_file
    from nn_tutor.engine.spec import parse_text
    from nn_tutor.resources import local_or_shipped

    if isinstance(source, dict):
        import copy

        return copy.deepcopy(source)
    if isinstance(source, Path) or _names_a_file(source, (".yaml", ".yml", ".json")):
        return load_file(local_or_shipped(str(source)))
    if isinstance(source, str):
        return parse_text(source, "spec text")
    raise NNTError(f"load_spec takes a file path, YAML/JSON text or a dict; got {type(source).__name__}")


def walk(spec, *, iterations: int = 1, loss: str | None = None, lr: float | None = None,
         conventions: dict | None = None, precision: int = 4, only: str | None = None):
    """Compute every step (forward, loss, backprop, update, new loss) and return a Walkthrough.

    `spec` is anything load_spec takes. `only` shows one phase: forward, loss, backward or update.
    """
    from nn_tutor.agent.notebook import Walkthrough
    from nn_tutor.agent.render import phases_for
    from nn_tutor.engine.errors import NNTError
    from nn_tutor.engine.kinds import WalkOptions
    from nn_tutor.engine.kinds import walk as walk_spec

    if only not in (None, "forward", "loss", "backward", "update"):
        raise NNTError(f"only must be forward, loss, backward or update; got {only!r}")
    if not 0 <= int(precision) <= 15:
        raise NNTError(f"precision must be between 0 and 15; got {precision}")
    options = WalkOptions(iterations=iterations, loss=loss, conventions=dict(conventions or {}),
                          learning_rate=lr)
    return Walkthrough(walk_spec(load_spec(spec), options), int(precision), phases_for(only))


def render(walkthrough, fmt: str = "text") -> str:
    """A walkthrough (or a spec, walked first) as text, markdown, latex (a document pdflatex
    compiles) or json."""
    from nn_tutor.agent.notebook import Walkthrough
    from nn_tutor.agent.render import FORMATS
    from nn_tutor.engine.errors import NNTError

    if fmt not in FORMATS:
        raise NNTError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return (walkthrough if isinstance(walkthrough, Walkthrough) else walk(walkthrough)).render(fmt)


def check(work, spec=None, *, rtol: float | None = None, atol: float | None = None):
    """Check hand-worked homework (its text, or a Path to it) step by step; with a spec, against the
    engine. Returns the check report (claims with verdicts, rules and evidence, summary, ok), shown as
    a table in Jupyter and as nnt check's lines when printed."""
    from nn_tutor.engine.errors import NNTError
    from nn_tutor.resources import local_or_shipped
    from nn_tutor.tools.homework import check_submission

    if isinstance(work, Path) or _names_a_file(work, (".md", ".txt", ".tex", ".yaml", ".yml")):
        path = Path(local_or_shipped(str(work)))
        try:
            data, source = path.read_bytes(), str(work)
        except OSError as exc:
            raise NNTError(f"cannot read the work file {work} ({exc.strerror}); give the path of a text file") from None
    else:
        data, source = str(work).encode("utf-8"), "work"
    return check_submission(data, source, None if spec is None else load_spec(spec), rtol, atol)


def ask(question: str, spec=None, *, offline: bool | None = None, model: str | None = None,
        base_url: str | None = None):
    """Ask the tutor one question (concepts from the course's cards, or about `spec`); an Answer.

    Offline unless an LLM is configured (settings: option > environment > config file > default).
    """
    from nn_tutor.agent.cmd_ask import ask as ask_once
    from nn_tutor.agent.config import load_settings
    from nn_tutor.agent.notebook import Answer
    from nn_tutor.tools.engine_tools import validate_spec

    settings = load_settings(model=model, base_url=base_url, offline=offline)
    reply, notices = ask_once(question, settings, None if spec is None else validate_spec(load_spec(spec)))
    return Answer(reply, notices)


def _names_a_file(source, suffixes: tuple[str, ...]) -> bool:
    """A one-line string that is an existing path or ends like a file of this kind (not text to parse)."""
    if not isinstance(source, str) or "\n" in source:
        return False
    return source.lower().endswith(suffixes) or Path(source).is_file()


def list_examples() -> list[str]:
    """The example files shipped with nn-tutor, as `examples/...` names that load_spec and walk take."""
    from nn_tutor.resources import example_files

    return [f"examples/{f}" for f in example_files()]
