"""Mutation benchmark of the homework checker: inject one error into a correct walkthrough, check.

From the engine's walkthrough of every reference network (examples/r*.yaml), written as a student
would at 4 decimals, inject a single error and let every later step follow from it consistently
(the error is propagated through the trace, as a student's later arithmetic would carry it):
  - digit:    one digit of a result changed (an arithmetic slip),
  - operand:  one number in a written sum of products replaced by another of the same sum,
  - each catalogued misconception, at a step where its alternative value differs from the truth.
Two-layer networks are written twice: with indexed names (z1[0], ∂L/∂W2[0, 1]) and with
per-neuron names (net_h1, out_o1, δ_o1, ∂E/∂w5, w5_new); a spec naming its classes is written
again with class names (p_dog, z_cat, δ_dog, ∂L/∂p_dog, b_dog_new) for every error at a class-named
output (reported on its own line), so name alignment is measured too.
Reported, with its goals (a regression check: the text is the checker's own style;
benchmarks/checker_corpus.py measures work written by others):
  recall     injected lines judged wrong                                   (goal ≥ 0.95)
  precision  wrong verdicts that sit on an injected line                   (goal ≥ 0.98)
  carried    later lines changed by the error and not judged wrong again   (goal ≥ 0.95)
  naming     misconception mutations named with the injected misconception (goal ≥ 0.80)

Run: .venv/bin/python benchmarks/checker.py [--quick]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn_tutor.engine.errors import NNTError  # noqa: E402
from nn_tutor.engine.kinds import walk  # noqa: E402
from nn_tutor.engine.spec import load_spec  # noqa: E402
from nn_tutor.engine.trace import Trace  # noqa: E402
from nn_tutor.tools.homework import check_text  # noqa: E402
from nn_tutor.tools.homework.expr import evaluate, parse, tokenize  # noqa: E402
from nn_tutor.tools.homework.misconceptions import CATALOGUE  # noqa: E402
from nn_tutor.tools.homework.notation import normalise_line  # noqa: E402
from nn_tutor.tools.homework.world import View, World  # noqa: E402
from nn_tutor.tools.homework.write import class_name, neuron_name, student_lines  # noqa: E402

DECIMALS = 4
ROOT = Path(__file__).resolve().parents[1]


# --- a trace with one element changed and everything downstream recomputed ---------------------------

def mutated_trace(trace: Trace, step_id: str, index: tuple, new_value: float) -> Trace:
    """A copy of `trace` where step_id[index] is new_value and every later step is recomputed."""
    out = Trace(trace.title, trace.batch_size, trace.conventions)
    out.info, out.notes, out.tables = dict(trace.info), list(trace.notes), list(trace.tables)
    changed = set()
    for step in trace:
        value = step.value
        if step.id == step_id:
            disp = np.array(trace.display(step_id), dtype=np.float64)
            disp[index] = new_value
            value = trace._to_internal(step, disp)
            changed.add(step.id)
        elif step.op is not None and any(i in changed for i in step.inputs):
            value = np.asarray(step.op.fn(*[out.steps[i].value for i in step.inputs]), dtype=np.float64)
            changed.add(step.id)
        out.steps[step.id] = dataclasses.replace(step, value=value)
    return out


# --- mutations ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class Mutation:
    kind: str                 # digit, operand, or a misconception name
    step_id: str
    index: tuple
    value: float              # the wrong value written
    body: str | None = None   # the written expression (operand mutations)


def digit_mutation(trace, step_id, index, rng) -> Mutation | None:
    true = float(np.asarray(trace.display(step_id))[index])
    text = f"{true:.{DECIMALS}f}"
    digits = [k for k, ch in enumerate(text) if ch.isdigit()]
    significant = [k for k in digits if text[k] != "0" or any(text[j] not in "0." for j in range(k))]
    if len(significant) < 2:
        return None
    k = significant[min(len(significant) - 1, 1 + rng.randrange(2))]
    new = text[:k] + str((int(text[k]) + rng.choice([1, 2, 3, 7])) % 10) + text[k + 1:]
    if abs(float(new) - true) < 10 ** -(DECIMALS - 1):
        return None
    return Mutation("digit", step_id, index, float(new))


def operand_mutation(trace, step_id, index, rng) -> Mutation | None:
    try:
        expansion = trace.expand(step_id, index, DECIMALS)
    except NNTError:
        return None
    parts = expansion.split(" = ")
    if len(parts) != 3 or "×" not in parts[1]:
        return None
    body = parts[1]
    try:
        nums = [t for t in tokenize(normalise_line(body)) if t.kind == "NUM"]
    except NNTError:
        return None
    if len(nums) < 3:
        return None
    for _ in range(6):
        a, b = rng.sample(range(len(nums)), 2)
        if nums[a].value == nums[b].value:
            continue
        norm = normalise_line(body)
        new_body = norm[:nums[a].pos] + nums[b].text + norm[nums[a].pos + len(nums[a].text):]
        try:
            value = float(evaluate(parse(new_body)))
        except NNTError:
            continue
        true = float(np.asarray(trace.display(step_id))[index])
        if abs(value - true) > 10 ** -(DECIMALS - 1) * max(1.0, abs(true)):
            return Mutation("operand", step_id, index, value, new_body)
    return None


def misconception_mutations(trace) -> list[Mutation]:
    """For each catalogued misconception, the first element where its value differs clearly."""
    found = []
    truth = View(World(trace), "truth")
    for m in CATALOGUE:
        hit = None
        for step in trace:
            if step.phase == "given" or step.id.endswith((".mask", ".samples")):
                continue
            try:
                alts = list(m.alternatives(truth, step.id))
            except (NNTError, ValueError, IndexError, KeyError, TypeError):
                continue
            true = np.asarray(trace.display(step.id), dtype=np.float64)
            for alt in alts:
                if alt is None or np.shape(alt) != true.shape:
                    continue
                gap = np.abs(np.asarray(alt) - true)
                ok = gap > 2 * 10 ** -(DECIMALS - 1) * np.maximum(1.0, np.abs(true))
                if ok.any():
                    idx = tuple(int(i) for i in np.argwhere(ok)[0])
                    hit = Mutation(m.name, step.id, idx, float(np.asarray(alt)[idx]))
                    break
            if hit:
                break
        if hit:
            found.append(hit)
    return found


# --- one run -------------------------------------------------------------------------------------------

def line_verdicts(report) -> dict[int, str]:
    order = {"wrong": 3, "carried": 2, "rounding": 1, "correct": 0, "unchecked": -1}
    out: dict[int, str] = {}
    for c in report.claims:
        if c.line not in out or order[c.verdict] > order[out[c.line]]:
            out[c.line] = c.verdict
    return out


def run_one(spec, trace, clean_lines, mutation: Mutation, stats, names, style="index"):
    bad = mutated_trace(trace, mutation.step_id, mutation.index, mutation.value)
    plain = {(mutation.step_id, mutation.index)} if mutation.kind not in ("digit",) else set()
    lines = student_lines(bad, DECIMALS, plain=plain, style=style)
    if mutation.body is not None:  # the operand mutation writes its wrong expression
        lines = [(s, i, (t if (s, i) != (mutation.step_id, mutation.index) else
                         f"{t.split(' = ')[0]} = {mutation.body} = {mutation.value:.{DECIMALS}f}"))
                 for s, i, t in lines]
    text = "\n".join(t for _, _, t in lines) + "\n"
    report = check_text(text, spec)
    verdicts = line_verdicts(report)
    clean_text = {(s, i): t.rsplit(" = ", 1)[-1] for s, i, t in clean_lines}
    injected_line = None
    for no, (s, i, t) in enumerate(lines, 1):
        verdict = verdicts.get(no)
        if (s, i) == (mutation.step_id, mutation.index):
            injected_line = no
            stats["injected"] += 1
            if verdict == "wrong":
                stats["found"] += 1
            else:
                stats["missed"].append((mutation.kind, mutation.step_id, t, verdict))
            if mutation.kind not in ("digit", "operand"):
                stats["named_total"] += 1
                names[mutation.kind][1] += 1
                named = [c.misconception for c in report.claims if c.line == no and c.verdict == "wrong"]
                if mutation.kind in named:
                    stats["named"] += 1
                    names[mutation.kind][0] += 1
                else:
                    stats["misnamed"].append((mutation.kind, mutation.step_id, t, named))
            continue
        if verdict == "wrong":
            stats["false_flags"] += 1
            stats["examples"].append((mutation.kind, mutation.step_id, t))
        if t.rsplit(" = ", 1)[-1] != clean_text.get((s, i)) and injected_line is not None:
            stats["affected"] += 1
            if verdict != "wrong":
                stats["not_repunished"] += 1
            if verdict == "carried":
                stats["carried_exact"] += 1
    if verdicts.get(injected_line) == "wrong":
        stats["true_flags"] += 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sites per example")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decimals", type=int, default=4, help="decimals the student writes (2-6)")
    args = parser.parse_args(argv)
    global DECIMALS
    DECIMALS = max(2, min(6, args.decimals))
    rng = random.Random(args.seed)
    stats: Counter = Counter()
    stats["examples"], stats["missed"], stats["misnamed"] = [], [], []
    names: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_kind: Counter = Counter()
    free: Counter = Counter()          # the same digit slips checked without the spec
    free["examples"], free["missed"], free["misnamed"] = [], [], []
    classed: Counter = Counter()       # errors at outputs written with the spec's class names, apart
    classed["examples"], classed["missed"], classed["misnamed"] = [], [], []
    start = time.perf_counter()
    files = sorted((ROOT / "examples").glob("r*.yaml"))
    for path in files:
        spec = load_spec(path)
        if spec.get("kind", "network") != "network":
            continue
        trace = walk(spec)
        if "loss" not in trace:
            continue
        clean_lines = student_lines(trace, DECIMALS)
        sites = [(s, i) for s, i, _ in clean_lines]
        rng.shuffle(sites)
        mutations: list[Mutation] = []
        n_sites = 4 if args.quick else 10
        for s, i in sites:
            if sum(m.kind == "digit" for m in mutations) >= n_sites:
                break
            m = digit_mutation(trace, s, i, rng)
            if m:
                mutations.append(m)
        for s, i in sites:
            if sum(m.kind == "operand" for m in mutations) >= n_sites // 2:
                break
            m = operand_mutation(trace, s, i, rng)
            if m:
                mutations.append(m)
        mutations.extend(misconception_mutations(trace))
        two_layer = any(neuron_name(s, i, trace) for s, i in sites if s == "L1.z")
        for m in mutations:
            per_kind[m.kind] += 1
            run_one(spec, trace, clean_lines, m, stats, names)
            if m.kind == "digit":
                run_one(None, trace, clean_lines, m, free, defaultdict(lambda: [0, 0]))
            if two_layer:  # the same work written with per-neuron names (net_h1, out_o1, ∂E/∂w5)
                per_kind["(neuron names)"] += 1
                run_one(spec, trace, clean_lines, m, stats, names, style="neuron")
            if class_name(m.step_id, m.index, trace):  # an error at an output written as p_dog, δ_cat, ...
                run_one(spec, trace, clean_lines, m, classed, defaultdict(lambda: [0, 0]), style="class")
    elapsed = time.perf_counter() - start
    flags = stats["true_flags"] + stats["false_flags"]
    recall = stats["found"] / max(stats["injected"], 1)
    precision = stats["true_flags"] / max(flags, 1)
    carried = stats["not_repunished"] / max(stats["affected"], 1)
    naming = stats["named"] / max(stats["named_total"], 1)
    print(f"mutation benchmark of the homework checker ({stats['injected']} single-error walkthroughs, "
          f"{len(files)} example files, numbers written to {DECIMALS} decimals, {elapsed:.1f} s)")
    print("  mutations: " + ", ".join(f"{k} {v}" for k, v in sorted(per_kind.items())))
    print(f"  recall     {recall:.3f}  (goal ≥ 0.95)  {stats['found']}/{stats['injected']} injected errors found")
    print(f"  precision  {precision:.3f}  (goal ≥ 0.98)  {stats['true_flags']}/{flags} wrong verdicts are real")
    print(f"  carried    {carried:.3f}  (goal ≥ 0.95)  {stats['not_repunished']}/{stats['affected']} later "
          f"lines changed by the error not punished again ({stats['carried_exact']} marked carried)")
    print(f"  naming     {naming:.3f}  (goal ≥ 0.80)  {stats['named']}/{stats['named_total']} misconceptions "
          f"named")
    free_flags = free["true_flags"] + free["false_flags"]
    print(f"  without --spec (arithmetic chains only), the {free['injected']} digit slips: "
          f"recall {free['found'] / max(free['injected'], 1):.3f}, "
          f"precision {free['true_flags'] / max(free_flags, 1):.3f}, "
          f"carried {free['not_repunished'] / max(free['affected'], 1):.3f}")
    class_flags = classed["true_flags"] + classed["false_flags"]
    print(f"  with class names (p_dog, z_cat, δ_dog, ∂L/∂p_dog), the {classed['injected']} errors at "
          f"class-named outputs: recall {classed['found'] / max(classed['injected'], 1):.3f}, "
          f"precision {classed['true_flags'] / max(class_flags, 1):.3f}, "
          f"carried {classed['not_repunished'] / max(classed['affected'], 1):.3f}, "
          f"named {classed['named']}/{classed['named_total']}")
    for name, (hit, total) in sorted(names.items()):
        print(f"      {name:<30} {hit}/{total}")
    for kind, step, text, named in stats["misnamed"][:12]:
        print(f"  {kind} at {step} named {named or 'nothing'}: {text[:80]}")
    for kind, step, text, verdict in stats["missed"][:12]:
        print(f"  missed {kind} at {step} ({verdict}): {text[:100]}")
    for kind, step, text in stats["examples"][:8]:
        print(f"  false flag after {kind} at {step}: {text[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
