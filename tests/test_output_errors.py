"""Every file a command writes goes through one writer: a path that cannot be written is one line that
names the option, the path and the fix, exit code 2, no traceback, and nothing half-written."""
from __future__ import annotations

import io
import os

import pytest
from reference import EX

from nn_tutor.agent.cli import main

R2 = str(EX / "r2_two_layer_sigmoid.yaml")
WORK = str(EX / "homework" / "r2_wrong.md")


def assert_one_line_error(capsys, code: int, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("nnt: error: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.mark.parametrize("option, target, fragments", [
    ("--csv", "/nonexistent/g.csv", ("--csv /nonexistent/g.csv", "the folder /nonexistent does not exist")),
    ("--csv", "DIR", ("is a folder", "grades.csv")),
    ("--out", "/nonexistent/x", ("--out /nonexistent/x", "does not exist")),
    ("--out", "DIR", ("--out", "is a folder")),
    ("--csv", "FILE/sub.csv", ("part of the path is a file",)),
])
def test_check_file_system_errors(capsys, tmp_path, option, target, fragments):
    (tmp_path / "FILE").write_text("a file, not a folder")
    path = target.replace("DIR", str(tmp_path)).replace("FILE", str(tmp_path / "FILE"))
    code = main(["check", WORK, "--spec", R2, option, path])
    assert_one_line_error(capsys, code, *fragments)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere: a read-only folder stops no one")
def test_permission_denied_says_so(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert_one_line_error(capsys, main(["walk", R2, "--out", str(locked / "w.md")]), "permission denied")


@pytest.mark.parametrize("argv, fragments", [
    (["walk", R2, "--out", "/nonexistent/w.md"], ("--out /nonexistent/w.md", "does not exist")),
    (["walk", R2, "--out", "DIR"], ("is a folder", "walkthrough.md")),
    (["walk", R2, "--iterations", "3", "--plot", "/nonexistent/loss.png"], ("--plot", "does not exist")),
    (["walk", R2, "--iterations", "3", "--plot", "PNGDIR"], ("is a folder", "loss.png")),
    (["walk", R2, "--iterations", "3", "--plot", "p.txt"], ("--plot p.txt", ".png, .svg, .pdf")),
    (["examples", "FILE"], ("nnt examples", "is a file, not a folder")),
])
def test_walk_and_examples_file_system_errors(capsys, tmp_path, argv, fragments):
    (tmp_path / "FILE").write_text("x")
    (tmp_path / "pics.png").mkdir()  # a folder whose name looks like a picture
    argv = [a.replace("PNGDIR", str(tmp_path / "pics.png")).replace("DIR", str(tmp_path))
            .replace("FILE", str(tmp_path / "FILE")) for a in argv]
    assert_one_line_error(capsys, main(argv), *fragments)


def test_a_failed_plot_writes_no_walkthrough_and_a_bad_plot_name_costs_no_work(capsys, tmp_path, monkeypatch):
    out = tmp_path / "w.md"
    calls = []
    monkeypatch.setattr("nn_tutor.engine.kinds.walk", lambda *a, **k: calls.append(a))
    code = main(["walk", R2, "--iterations", "3", "--plot", str(tmp_path / "p.txt"), "--out", str(out)])
    assert_one_line_error(capsys, code, "--plot")
    assert not calls and not out.exists()


def test_data_dir_that_cannot_be_created(capsys, tmp_path, monkeypatch):
    (tmp_path / "FILE").write_text("x")
    monkeypatch.setenv("NNT_DATA_DIR", str(tmp_path / "FILE" / "data"))
    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n"))
    assert_one_line_error(capsys, main(["chat"]), "NNT_DATA_DIR", "cannot create this folder")


def test_a_damaged_session_database_names_the_fix(capsys, tmp_path, monkeypatch):
    data = tmp_path / "nnt-data"
    data.mkdir(exist_ok=True)
    (data / "sessions.sqlite").write_bytes(b"not a database at all" * 100)
    monkeypatch.setattr("sys.stdin", io.StringIO("hello\n"))
    assert_one_line_error(capsys, main(["chat"]), "sessions.sqlite", "NNT_DATA_DIR")


def test_chat_export_to_a_missing_folder_is_a_notice_and_the_chat_goes_on(capsys, tmp_path, monkeypatch):
    good = tmp_path / "w.tex"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"/load {R2}\n/export /nonexistent/dir/x.md\n/export {good}\n"))
    assert main(["chat", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "/export /nonexistent/dir/x.md: the folder /nonexistent/dir does not exist" in " ".join(out.split())
    assert "Traceback" not in out and good.read_text().startswith("\\documentclass")


def test_an_unexpected_failure_costs_the_chat_one_turn(capsys, monkeypatch):
    from nn_tutor.agent import chat_ui

    real = chat_ui.ChatSession.run_turn
    turns = []

    def flaky(self, text, request=None):
        turns.append(text)
        if len(turns) == 1:
            raise RuntimeError("boom in a node")
        return real(self, text, request)

    monkeypatch.setattr(chat_ui.ChatSession, "run_turn", flaky)
    monkeypatch.setattr("sys.stdin", io.StringIO("first question\nwhat is RAG?\n"))
    assert main(["chat", "--offline"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "internal error in this turn (RuntimeError: boom in a node); the conversation is kept" in out
    assert "[rag]" in out and "Traceback" not in out


def test_an_unexpected_failure_of_a_command_is_one_line_with_exit_70(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("nn_tutor.engine.kinds.walk", broken)
    assert main(["walk", R2]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError" in err and "NNT_DEBUG=1" in err
    monkeypatch.setenv("NNT_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["walk", R2])
