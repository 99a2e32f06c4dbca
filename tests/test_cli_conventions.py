"""Command-line conventions: --version, `nnt walk -`, `nnt examples`, --help examples that work from any
folder (the shipped examples), and `nnt doctor` reporting what it actually loaded."""
from __future__ import annotations

import io
import re
import shlex
from importlib.metadata import version

import pytest
from reference import EX

from nn_tutor.agent.cli import COMMANDS, build_parser, main


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty folder: what a user has after `pip install nn-tutor`


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"nnt (nn-tutor) {version('nn-tutor')}"


def test_walk_reads_a_spec_from_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO((EX / "r6_one_neuron.yaml").read_text()))
    assert main(["walk", "-"]) == 0
    from_stdin = capsys.readouterr().out
    assert main(["walk", str(EX / "r6_one_neuron.yaml")]) == 0
    assert from_stdin == capsys.readouterr().out


def _help_examples():
    """Every `nnt ...` line in the commands' help texts (the part before a comment)."""
    parser = build_parser()
    found = []
    for name in COMMANDS:
        helptext = parser._subparsers._group_actions[0].choices[name].format_help()
        for line in helptext.splitlines():
            line = line.split("#")[0].split("  (")[0].strip()
            if line.startswith("nnt ") and "..." not in line and "work.txt" not in line and "*" not in line \
                    and "problem.yaml" not in line and "~" not in line and "chat" not in line:
                found.append(line)
    return found


def test_every_help_example_runs_from_an_empty_folder(capsys, tmp_path):
    examples = _help_examples()
    assert len(examples) >= 12
    for line in examples:
        argv = shlex.split(line)[1:]
        code = main(argv)
        out = capsys.readouterr()
        assert code in (0, 1), (line, out.err)   # 1: the check found mistakes, or training stopped
        assert "not found" not in out.err and "Traceback" not in out.err, (line, out.err)


def test_examples_copies_without_overwriting(capsys, tmp_path):
    (tmp_path / "examples").mkdir()
    mine = tmp_path / "examples" / "r2_two_layer_sigmoid.yaml"
    mine.write_text("title: my own edited copy\n")
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    shipped = sorted(p.relative_to(EX).as_posix() for p in EX.rglob("*")
                     if p.is_file() and p.name != "__init__.py" and "__pycache__" not in p.parts)
    copied = sorted(p.relative_to(tmp_path / "examples").as_posix() for p in (tmp_path / "examples").rglob("*")
                    if p.is_file())
    assert copied == shipped
    assert mine.read_text() == "title: my own edited copy\n"  # nothing lost
    assert f"copied {len(shipped) - 1} files into examples/" in out and "kept 1 that were already there" in out
    assert (tmp_path / "examples/homework/r2_wrong.md").read_bytes() == (EX / "homework/r2_wrong.md").read_bytes()
    # the local copy wins over the shipped file of the same name
    assert main(["walk", "examples/r2_two_layer_sigmoid.yaml"]) == 2
    assert "missing field 'input'" in capsys.readouterr().err


def test_examples_list(capsys):
    assert main(["examples", "--list"]) == 0
    listed = capsys.readouterr().out.split()
    assert "examples/r2_two_layer_sigmoid.yaml" in listed and "examples/homework/r2_wrong.md" in listed
    assert "examples/__init__.py" not in listed


def test_doctor_loads_the_shipped_data(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    cards = len(list((EX.parent / "knowledge").glob("*.md")))
    assert re.search(rf"knowledge base +{cards} cards from ", out)
    assert re.search(r"prompts +\d+ loaded \(concept_answer, explain", out)
    assert re.search(r"examples +\d+ specs and \d+ homework files", out)
    assert "endpoint          not probed" in out


def test_doctor_reports_a_broken_card_as_failed(capsys, monkeypatch):
    import nn_tutor.tools.cards as cards

    def broken(*args, **kwargs):
        raise cards.NNTError("rag.md: front matter needs 'title'")

    monkeypatch.setattr(cards, "load_cards", broken)
    assert main(["doctor"]) == 1
    assert "knowledge base    FAILED: NNTError: rag.md: front matter needs 'title'" in capsys.readouterr().out
