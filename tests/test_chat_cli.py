"""Whole-CLI tests of the offline chat: input piped, a fixed-width console, every slash command."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from nn_tutor.agent.chat_ui import ChatSession, chat_loop, list_sessions, piped_inputs
from nn_tutor.agent.config import load_settings
from specs import R2_YAML

# a slip on line 2: 0.15×0.5 + 0.2×0.8 + 0.35 is 0.585 (hand sum), not 0.595
WORK = """net_h1 = 0.15*0.5 + 0.2*0.8 + 0.35 = 0.585
z = 0.15*0.5 + 0.2*0.8 + 0.35 = 0.595
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "r2.yaml").write_text(R2_YAML)
    (tmp_path / "work.txt").write_text(WORK)
    return tmp_path


def run_chat(script: str, session: str = "s", width: int = 100) -> str:
    out = io.StringIO()
    chat = ChatSession(load_settings(), Console(file=out, width=width), session)
    assert chat_loop(chat, piped_inputs(io.StringIO(script))) == 0
    return out.getvalue()


def test_every_slash_command(files):
    md, tex = files / "walk.md", files / "walk.tex"
    script = f"""/help
/walk
/load {files / 'r2.yaml'}
/walk backward
/hint
/hint
/why L2.delta
/trace
/check {files / 'work.txt'}
/export {md}
/export {tex}
/new fresh
/walk
/bogus
/quit
this line is never read
"""
    out = run_chat(script)
    assert "/export FILE.md" in out  # /help table
    assert "No network is loaded yet" in out  # /walk before /load
    assert "0.15×0.5 + 0.2×0.8 + 0.35 = 0.585" in out  # /load walks through, element sums written out
    assert "Hint 1 (nudge)" in out and "Hint 2 (pointer to the step)" in out
    assert "L2.delta" in out  # /why
    assert "route (rules): explain — /why L2.delta" in out  # /trace of the /why turn
    assert "wrong" in out and "0.585" in out  # /check: the slip on line 2 against 0.585
    assert md.read_text().count("0.585") >= 1 and "\\" in tex.read_text()  # /export md and LaTeX
    assert "New conversation: session fresh" in out
    assert out.count("No network is loaded yet") == 2  # the fresh session has no network
    assert "unknown command /bogus" in out
    assert "Resume with: nnt chat --session fresh" in out
    assert "never read" not in out


def test_plain_text_turns_and_pasted_blocks(files):
    script = f'"""\n{R2_YAML}"""\nwhat is RAG?\n/trace\n'
    out = run_chat(script)
    assert "0.585" in out  # the pasted spec was walked through
    assert "[rag]" in out  # extractive answer citing its card
    assert "retrieval" in out and "query" in out  # /trace shows the retrieval


def test_errors_are_one_line_notices_not_crashes(files):
    out = run_chat("/load nope.yaml\n/why\n/export out.pdf\n/export x.md\n/check missing.txt\n")
    assert "spec file 'nope.yaml' not found" in out
    assert "/why needs a step id" in out
    assert "ending in .md or .tex" in out
    assert "nothing to export yet" in out
    assert "cannot read 'missing.txt'" in out
    assert "Traceback" not in out


def test_session_persists_and_resumes(files):
    run_chat(f"/load {files / 'r2.yaml'}\n/hint\n", session="hw3")
    assert "hw3" in list_sessions(load_settings().data_dir)
    out = run_chat("/hint\n/why L1.a\n", session="hw3")
    assert "resumed with 2 earlier turns" in out
    assert "Hint 2 (pointer to the step)" in out  # the ladder continued where it was
    assert "sigmoid(0.585)" in out  # the network is still loaded


def test_ctrl_c_cancels_the_turn_and_keeps_the_history(files, monkeypatch):
    out = io.StringIO()
    chat = ChatSession(load_settings(), Console(file=out, width=100), "c")
    chat.handle(f"/load {files / 'r2.yaml'}")
    before = chat.values()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("nn_tutor.agent.explainer.hint_text", interrupted)  # Ctrl-C in the middle of the graph
    assert chat.handle("/hint") is True
    assert "turn cancelled" in out.getvalue()
    after = chat.values()
    assert len(after["messages"]) == len(before["messages"]) and after.get("hint_level") == 0
    monkeypatch.undo()
    chat.handle("/hint")
    assert chat.values()["hint_level"] == 1


def test_nnt_chat_and_ask_through_the_cli(files, monkeypatch, capsys):
    from nn_tutor.agent.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(f"/load {files / 'r2.yaml'}\n/why L1.z\n/quit\n"))
    assert main(["chat", "--session", "cli"]) == 0
    out = capsys.readouterr().out
    assert "0.25×0.5 + 0.3×0.8 + 0.35 = 0.715" in out
    assert main(["chat", "--list"]) == 0 and "cli" in capsys.readouterr().out
    assert main(["ask", "--spec", str(files / "r2.yaml"), "why L2.z"]) == 0
    assert "0.4×0.6422 + 0.45×0.6715 + 0.6" in capsys.readouterr().out  # σ(0.585)≈0.6422, σ(0.715)≈0.6715
    assert main(["ask", "--spec", "missing.yaml", "hi"]) == 2


def test_command_modules_import_only_argparse_at_top():
    import ast

    for name in ("cmd_chat", "cmd_ask", "cmd_doctor"):
        tree = ast.parse((Path(__file__).resolve().parent.parent / "agent" / f"{name}.py").read_text())
        top = {alias.name for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
               for alias in node.names} | {node.module for node in tree.body
                                           if isinstance(node, ast.ImportFrom)}
        assert top <= {"argparse", "annotations", "__future__"}, (name, top)


def test_ctrl_c_during_a_slow_llm_call_gives_the_prompt_back_at_once(files):
    import _thread
    import threading
    import time

    from scripted_llm import ScriptedLLM, delay, text

    out = io.StringIO()
    # a concept question always goes to the model (a greeting no longer does): the slow call is its wording
    with ScriptedLLM([delay(2.0, text("Late answer [rag].")), text("Second answer [rag].")]) as llm:
        settings = load_settings(base_url=llm.url, timeout_s=10, max_retries=0)
        chat = ChatSession(settings, Console(file=out, width=100), "slow")
        threading.Timer(0.3, _thread.interrupt_main).start()  # the user presses Ctrl-C
        start = time.perf_counter()
        chat.handle("what is RAG?")
        assert time.perf_counter() - start < 1.5  # not held until the 2 s call ends
        assert "turn cancelled" in out.getvalue() and chat.values() == {}
        chat.handle("what is RAG, again?")  # waits for the cancelled run, then starts from before it
    assert "Second answer" in out.getvalue() and "Late answer" not in out.getvalue()
    humans = [m.content for m in chat.values()["messages"] if m.type == "human"]
    assert humans == ["what is RAG, again?"]


def hand_bm25(term: str) -> list[tuple[str, float]]:
    """BM25 (Lucene form, k1 = 1.5, b = 0.75) of one term over the shipped cards, best first, by hand:
    idf = ln(1 + (N − df + 0.5)/(df + 0.5)), score = idf · tf / (tf + k1·(1 − b + b·dl/avgdl))."""
    import math

    from nn_tutor.tools.cards import load_cards
    from nn_tutor.tools.knowledge import card_terms

    docs = {card.id: card_terms(card) for card in load_cards()}
    n, avgdl = len(docs), sum(map(len, docs.values())) / len(docs)
    df = sum(term in d for d in docs.values())
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    scores = {cid: idf * d.count(term) / (d.count(term) + 1.5 * (1 - 0.75 + 0.75 * len(d) / avgdl))
              for cid, d in docs.items() if term in d}
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def test_trace_after_a_concept_question_shows_the_whole_of_rag():
    import re

    out = run_chat("what is RAG?\n/trace\n", width=120)
    answer, trace = out.split("What I did last turn")
    assert "[rag]" in answer
    assert "query “what is RAG?” → search terms rag" in trace
    assert "covered: the best card matches 100%" in trace  # one term, and the best card has it
    top3 = hand_bm25("rag")[:3]
    assert top3[0][0] == "rag"
    lines = [f"{rank} [{cid}]" for rank, (cid, _) in enumerate(top3, start=1)]
    for (cid, score), line in zip(top3, lines):
        assert re.search(rf"{re.escape(line)} .*: BM25 {round(score, 3)}; matched rag", trace), cid
    assert trace.index(lines[0]) < trace.index(lines[1]) < trace.index(lines[2])
    note = re.search(r"prompt \(not sent \(offline\): the prompt an LLM would get; about ([\d,]+) tokens, "
                     r"([\d,]+) characters, shortened here\)", trace)
    assert note and int(note.group(2).replace(",", "")) > 2000
    # the token estimate over-counts: never below a quarter of the characters (English runs about 4 a token)
    assert int(note.group(1).replace(",", "")) > int(note.group(2).replace(",", "")) / 4
    assert "ONLY the course cards" in trace and "characters left out" in trace
    cards_at = trace.index("Course cards:")  # the prompt: instructions, every card, then the question
    last_card_at = trace.index(f"[{top3[-1][0]}]", cards_at)
    assert cards_at < last_card_at < trace.index("Student's question:") < trace.rindex("what is RAG?")
