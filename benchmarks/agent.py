"""Agent benchmark: LLM calls and tokens per task type (scripted server), offline latency vs `nnt walk`.

(a) Each task type runs through the real graph and ChatOpenAI against tests/scripted_llm.py on
    loopback; the server counts the calls and rough tokens (characters / 4 of what was sent and
    returned). Goals: a walkthrough in <= 2 LLM calls, a homework check in <= 2.
(b) Offline turn latency: the same problem (R2) as `nnt walk FILE` in a fresh process, as
    `nnt ask --offline --spec FILE "walk me through it"` in a fresh process, and as one warm
    in-process chat turn (/walk).

Run: .venv/bin/python benchmarks/agent.py
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from langchain_core.messages import HumanMessage  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402

from nn_tutor.agent.config import load_settings  # noqa: E402
from nn_tutor.agent.graph import build_graph  # noqa: E402
from nn_tutor.agent.state import TutorContext  # noqa: E402
from nn_tutor.engine.spec import load_spec  # noqa: E402
from scripted_llm import ScriptedLLM, text, tool_calls  # noqa: E402

EXAMPLE = ROOT / "examples" / "r2_two_layer_sigmoid.yaml"
GROUNDED = "The prediction is 0.7612 and the loss is 0.0285."
HOMEWORK = "z1 = 0.15*0.5 + 0.2*0.8 + 0.35 = 0.585\nz2 = 0.25*0.5 + 0.3*0.8 + 0.35 = 0.725\n"


def run_task(name: str, script: list, turns: list[tuple[str, dict | None]], preload: bool) -> dict:
    """Run the turns of one task against a fresh scripted server; count calls and tokens."""
    with ScriptedLLM(script) as llm:
        graph = build_graph(InMemorySaver())
        config = {"configurable": {"thread_id": name}}
        context = TutorContext(settings=load_settings(base_url=llm.url, timeout_s=10, max_retries=0))
        if preload:
            graph.update_state(config, {"spec": load_spec(EXAMPLE), "spec_name": "r2"}, as_node="orchestrate")
        for message, request in turns:
            out = graph.invoke({"messages": [HumanMessage(message)], "request": request}, config,
                               context=context)
        prompt = sum(u["prompt_tokens"] for u in llm.usage)
        completion = sum(u["completion_tokens"] for u in llm.usage)
    return {"task": name, "calls": len(llm.requests), "prompt": prompt, "completion": completion,
            "notices": out.get("notices") or []}


def llm_table() -> list[dict]:
    spec = load_spec(EXAMPLE)
    return [
        run_task("walkthrough (network in words)",
                 [tool_calls(("set_network", {"network": spec, "guessed": []})), text(GROUNDED)],
                 [("2 inputs, 2 sigmoid hidden, 1 sigmoid output, weights ...", None)], False),
        run_task("walkthrough (/walk, network loaded)", [text(GROUNDED)], [("/walk", {"action": "walk"})], True),
        run_task("homework check (pasted work)", [text("Line 1 is right; line 2 should be 0.715.")],
                 [(HOMEWORK, None)], True),
        run_task("concept question", [tool_calls(("search_concepts", {"query": "RAG"})),
                                      text("RAG retrieves passages and puts them in the prompt [rag].")],
                 [("what is RAG?", None)], False),
        run_task("hint (one rung)", [text("Which weights multiply x in this step?")],
                 [("/hint", {"action": "hint"})], True),
        run_task("walkthrough with an invented number", [text("The loss is 0.1234."), text(GROUNDED)],
                 [("/walk", {"action": "walk"})], True),
    ]


def wall(cmd: list[str], repeats: int = 5) -> float:
    """Median wall time of a fresh process (start-up included), in seconds."""
    env = dict(os.environ, NNT_DATA_DIR=tempfile.mkdtemp(prefix="nnt-bench-"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(var, None)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def warm_turn(repeats: int = 20) -> float:
    """Median time of one offline /walk turn in a running chat (graph and trace cache warm)."""
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "warm"}}
    context = TutorContext(settings=load_settings(offline=True))
    graph.update_state(config, {"spec": load_spec(EXAMPLE)}, as_node="orchestrate")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        graph.invoke({"messages": [HumanMessage("/walk")], "request": {"action": "walk"}}, config,
                     context=context)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    rows = llm_table()
    print("(a) LLM calls and rough tokens per task (scripted OpenAI-compatible server on loopback)")
    print(f"{'task':<40} {'calls':>5} {'prompt tok':>10} {'completion tok':>14}")
    for r in rows:
        print(f"{r['task']:<40} {r['calls']:>5} {r['prompt']:>10} {r['completion']:>14}")
    walk_calls = max(r["calls"] for r in rows if r["task"].startswith("walkthrough ("))
    check_calls = next(r["calls"] for r in rows if r["task"].startswith("homework"))
    print(f"goals: walkthrough <= 2 calls: {walk_calls} ({'met' if walk_calls <= 2 else 'MISSED'}); "
          f"homework check <= 2 calls: {check_calls} ({'met' if check_calls <= 2 else 'MISSED'})")

    nnt = str(Path(sys.executable).with_name("nnt"))
    walk_s = wall([nnt, "walk", str(EXAMPLE)])
    ask_s = wall([nnt, "ask", "--offline", "--spec", str(EXAMPLE), "walk me through it"])
    turn_s = warm_turn()
    print("\n(b) Offline latency on R2 (median wall time)")
    print(f"nnt walk FILE (fresh process)                      {walk_s * 1000:8.1f} ms")
    print(f"nnt ask --offline --spec FILE (fresh process)      {ask_s * 1000:8.1f} ms  "
          f"({ask_s / walk_s:.1f}× nnt walk)")
    print(f"one /walk turn in a running chat (warm)            {turn_s * 1000:8.1f} ms  "
          f"({turn_s / walk_s:.2f}× nnt walk)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
