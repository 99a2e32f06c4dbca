"""Agent benchmark: LLM calls, prompt tokens and wall time per turn for each task type, on two servers
side by side, then offline latency against `nnt walk`.

(a) Each task runs its turns through the real graph and ChatOpenAI against two OpenAI-compatible
    servers on loopback:
    - scripted: tests/scripted_llm.py playing an ideal model (a valid call when a tool is forced or
      offered, else a short grounded text citing the first card it was given); it answers at once
      and counts tokens roughly (characters / 4);
    - SmolLM2: llama.cpp serving SmolLM2-135M-Instruct (tests/llama_server.py: 4,096-token context,
      temperature 0, fixed seed); tokens are the server's own count.
    Only the task's last turn is measured (earlier turns set it up: the check a follow-up is about).
    Goals per task: at most 2 LLM calls and 3,000 prompt tokens.
(b) Offline turn latency: R2 as `nnt walk FILE` in a fresh process, as `nnt ask --offline --spec
    FILE "walk me through it"` in a fresh process, and as one warm in-process chat turn (/walk).

Run: .venv/bin/python benchmarks/agent.py   (needs the realmodel extra: `make bench` installs it)
"""
from __future__ import annotations

import os
import re
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
GOAL_CALLS, GOAL_PROMPT_TOKENS = 2, 3000
DESCRIBED = ("My network: inputs x1 = 0.5 and x2 = 0.8, target 1. Hidden neuron h1 has weights 0.15 (from x1) "
             "and 0.20 (from x2), bias 0.35; h2 has weights 0.25 and 0.30, bias 0.35. Output o1 has weights "
             "0.40 and 0.45, bias 0.60. All sigmoid, loss half the sum of squared errors, learning rate 0.5.")
HOMEWORK = "z1 = 0.15*0.5 + 0.2*0.8 + 0.35 = 0.595\nE = (1 - 0.7613)^2 = 0.0570\n"
CHECK = ("/check work.txt", {"action": "check", "text": HOMEWORK, "name": "work.txt"})


class Task:
    """A task type: setup turns (not measured), then the turn measured; `loaded` starts from R2."""

    def __init__(self, name: str, turn: tuple[str, dict | None], setup: tuple = (), loaded: bool = True):
        self.name, self.turn, self.setup, self.loaded = name, turn, setup, loaded


TASKS = [
    Task("network in words -> walkthrough", (DESCRIBED, None), loaded=False),
    Task("/walk (network loaded)", ("/walk", {"action": "walk"})),
    Task("homework check (pasted work)", (HOMEWORK, None)),
    Task("follow-up: explain my mistakes", ("explain my mistakes", None), setup=(CHECK,)),
    Task("why: the gradient for w5", ("why is the gradient for w5 negative?", None)),
    Task("hint (one rung)", ("/hint", {"action": "hint"})),
    Task("calculation: sigmoid(0.5)", ("what is sigmoid(0.5)?", None), loaded=False),
    Task("concept question", ("what is retrieval augmented generation?", None), loaded=False),
    Task("comparison question", ("what is RAG vs fine-tuning?", None), loaded=False),
    Task("open request (model picks tools)", ("is my network any good?", None)),
]


def set_network_call(spec: dict) -> dict:
    """The set_network arguments a careful model writes for a spec (layers hold W, b and activation)."""
    return {"input": spec["input"], "target": spec["target"], "layers": [l["dense"] for l in spec["layers"]],
            "loss": spec["loss"], "learning_rate": spec["learning_rate"], "guessed": []}


def ideal_model(request: dict):
    """The scripted server's reply: what a careful model would send for this request."""
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        return tool_calls((choice["function"]["name"], set_network_call(load_spec(EXAMPLE))))
    if request.get("tools"):
        return tool_calls(("forward_pass", {}))
    prompt = request["messages"][-1]["content"]
    card = re.search(r"^\[([a-z][a-z0-9-]*)\] ", prompt, re.M)
    return text(f"The course card explains it [{card.group(1)}]." if card else
                "Each step follows from the one before it, as the engine's results show.")


def run_task(task: Task, base_url: str, timeout_s: float) -> dict:
    """The measured turn of one task: LLM calls, prompt tokens (server count and estimate), wall time."""
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": task.name}}
    context = TutorContext(settings=load_settings(base_url=base_url, timeout_s=timeout_s, max_retries=0))
    if task.loaded:
        graph.update_state(config, {"spec": load_spec(EXAMPLE), "spec_name": "r2"}, as_node="orchestrate")
    for message, request in task.setup:
        graph.invoke({"messages": [HumanMessage(message)], "request": request}, config, context=context)
    message, request = task.turn
    start = time.perf_counter()
    out = graph.invoke({"messages": [HumanMessage(message)], "request": request}, config, context=context)
    seconds = time.perf_counter() - start
    turn = out["turn"]
    calls = [a for a in turn["activity"] if a.get("kind") == "llm"]
    return {"calls": len(calls), "prompt": sum(a.get("prompt_tokens") or 0 for a in calls),
            "estimate": sum(a.get("prompt_tokens_estimate") or 0 for a in calls),
            "largest": max((a.get("prompt_tokens") or 0 for a in calls), default=0),
            "failed": sum("error" in a for a in calls), "seconds": seconds, "notices": turn.get("notices") or []}


def run_all(base_url: str, timeout_s: float) -> list[dict]:
    return [run_task(task, base_url, timeout_s) for task in TASKS]


def llm_tables() -> tuple[list[dict], list[dict]]:
    """Every task on the scripted server, then on llama.cpp with SmolLM2."""
    from llama_server import LlamaServer

    with ScriptedLLM(responder=ideal_model) as llm:
        scripted = run_all(llm.url, 10)
    with LlamaServer() as server:
        real = run_all(server.url, 300)
    return scripted, real


def print_llm_tables(scripted: list[dict], real: list[dict]) -> None:
    print("(a) Per task: LLM calls, prompt tokens (server's count; estimate) and wall time of the turn")
    print(f"{'':<34}| {'scripted (ideal model)':^27} | {'llama.cpp + SmolLM2-135M':^36}")
    print(f"{'task':<34}| {'calls':>5} {'prompt':>7} {'estim.':>6} {'ms':>6} | "
          f"{'calls':>5} {'prompt':>7} {'estim.':>6} {'largest':>7} {'s':>6}")
    for task, s, r in zip(TASKS, scripted, real):
        failed = f"  ({r['failed']} failed)" if r["failed"] else ""
        print(f"{task.name:<34}| {s['calls']:>5} {s['prompt']:>7} {s['estimate']:>6} {s['seconds'] * 1000:>6.0f} | "
              f"{r['calls']:>5} {r['prompt']:>7} {r['estimate']:>6} {r['largest']:>7} {r['seconds']:>6.1f}{failed}")
    for label, rows in (("scripted", scripted), ("SmolLM2", real)):
        calls = max(r["calls"] for r in rows)
        tokens = max(r["prompt"] for r in rows)
        print(f"goals on {label}: <= {GOAL_CALLS} calls a task: most {calls} "
              f"({'met' if calls <= GOAL_CALLS else 'MISSED'}); <= {GOAL_PROMPT_TOKENS:,} prompt tokens a task: "
              f"most {tokens:,} ({'met' if tokens <= GOAL_PROMPT_TOKENS else 'MISSED'})")
    print("(scripted prompt tokens are characters / 4; SmolLM2's are its tokenizer's count of the rendered chat)")


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
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "NNT_MODEL", "NNT_OFFLINE", "NNT_CONTEXT_TOKENS"):
        os.environ.pop(var, None)
    scripted, real = llm_tables()
    print_llm_tables(scripted, real)

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
