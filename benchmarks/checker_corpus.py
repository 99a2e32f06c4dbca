"""The checker on independently written homework: `nnt check --spec` scored against answer keys.

A corpus is a folder of problems, each with `spec_<problem>.yaml` and submissions
`<problem>_s<N>.txt|md|tex` with answer keys `key_<problem>_s<N>.json` written by someone else
(format and scoring rule: the corpus README). By default the development corpus in
../shared/homework_corpus; `--corpus DIR` scores another one of the same kind.

Scoring, as the corpus README says: a checker claim matches a key entry on the same line whose
value equals it within 0.5 % (vectors whole when the shapes agree, else element by element; equal
values on a line are paired in column order); correct/rounding ↔ correct, wrong ↔ wrong,
carried ↔ carried, unchecked abstains. Counts are over elements (a keyed vector counts each
element). Printed per corpus, per problem and per style:
  flagged    key-wrong elements the checker calls wrong                     (goal ≥ 95 %)
  carried    key-carried elements called carried                            (goal ≥ 95 %)
  alarms     key-correct called wrong/carried, key-carried called wrong, and
             unmatched checker claims called wrong/carried, over the keyed
             correct and carried elements                                   (goal ≤ 0.5 %)
  verdict    keyed elements given a verdict (matched, not unchecked)        (goal ≥ 95 %)
  exit       exit code right (0 for a fully correct submission, else 1)     (goal: all)
  crashes    submissions on which the checker raised                        (goal 0)
plus precision of `wrong`, verdict accuracy, and misconception naming through the mapping table.
Then speed: one in-process check of an R2-sized submission (goal ≤ 10 ms), and
`nnt check --spec P DIR/*.md --csv` over 1,000 submissions (goal ≤ 20 s on 2 cores).

Run: .venv/bin/python benchmarks/checker_corpus.py [--corpus DIR] [--details] [--quick]
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "homework_corpus"

# the checker's misconception names -> the corpus's names (where they differ)
NAME_MAP = {
    "learning_rate_missing": "learning_rate_missing",
    "learning_rate_twice": "learning_rate_twice",
}
GOOD = {"correct", "rounding"}


@dataclass
class Unit:
    """One claimed number or array: from the key (labels) or from the checker (verdicts)."""

    line: int
    order: float
    value: object
    labels: list          # one label per element (key: correct/wrong/carried; checker: verdict)
    names: list           # misconception per element (None where there is none)
    used: bool = False

    @property
    def elements(self) -> list[float]:
        return [float(v) for v in np.asarray(self.value, dtype=np.float64).ravel()]


@dataclass
class Tally:
    """Counts over elements for one group of submissions (the corpus, a problem, a style)."""

    keyed: Counter = field(default_factory=Counter)          # key label -> elements
    got: Counter = field(default_factory=Counter)            # (key label, checker verdict) -> elements
    unmatched: Counter = field(default_factory=Counter)      # checker verdict of unmatched elements
    named: Counter = field(default_factory=Counter)          # right/wrong misconception names
    exits: Counter = field(default_factory=Counter)          # right/wrong exit codes
    crashes: int = 0
    submissions: int = 0

    def add(self, other: "Tally") -> None:
        for name in ("keyed", "got", "unmatched", "named", "exits"):
            getattr(self, name).update(getattr(other, name))
        self.crashes += other.crashes
        self.submissions += other.submissions

    def metrics(self) -> dict:
        k, g = self.keyed, self.got
        total = sum(k.values())
        matched = sum(g.values())
        verdicted = sum(n for (_, v), n in g.items() if v != "unchecked")
        agree = sum(n for (lab, v), n in g.items() if _agrees(lab, v))
        wrong_called = sum(n for (_, v), n in g.items() if v == "wrong") + self.unmatched["wrong"]
        alarms = (sum(n for (lab, v), n in g.items() if lab == "correct" and v in ("wrong", "carried"))
                  + g[("carried", "wrong")] + self.unmatched["wrong"] + self.unmatched["carried"])
        return {
            "flagged": (g[("wrong", "wrong")], k["wrong"]),
            "carried": (g[("carried", "carried")], k["carried"]),
            "alarms": (alarms, k["correct"] + k["carried"]),
            "verdict": (verdicted, total),
            "exit": (self.exits["right"], self.exits["right"] + self.exits["wrong"]),
            "crashes": (self.crashes, self.submissions),
            "precision": (g[("wrong", "wrong")], wrong_called),
            "accuracy_matched": (agree, matched),
            "accuracy_all": (agree, total),
            "naming": (self.named["right"], self.named["right"] + self.named["wrong"]),
        }


def _agrees(label: str, verdict: str) -> bool:
    return (label == "correct" and verdict in GOOD) or label == verdict


# --- running the checker ---------------------------------------------------------------------------

def check_claims(work: Path, spec: dict) -> tuple[list[dict], int]:
    """The checker's JSON claims for one submission and its exit code, exactly as `nnt check` makes them."""
    from nn_tutor.tools.homework import check_submission

    report = check_submission(work.read_bytes(), str(work), spec)
    return json.loads(json.dumps(report.to_dict()["claims"])), (0 if report.ok else 1)


def checker_units(claims: list[dict]) -> list[Unit]:
    units = []
    for k, c in enumerate(claims):
        if c.get("claimed") is None or c.get("line") is None:
            continue
        n = int(np.size(np.asarray(c["claimed"], dtype=np.float64)))
        elements = c.get("elements")
        if elements and len(elements) == n:
            labels = [e.get("verdict", c["verdict"]) for e in elements]
            names = [e.get("misconception", c.get("misconception")) for e in elements]
        else:
            labels, names = [c["verdict"]] * n, [c.get("misconception")] * n
        units.append(Unit(int(c["line"]), c.get("column", k), c["claimed"], labels, names))
    units.sort(key=lambda u: (u.line, u.order))
    return units


def key_units(key: dict) -> list[Unit]:
    units = []
    for e in key["claims"]:
        n = int(np.size(np.asarray(e["claimed"], dtype=np.float64)))
        labels = list(e.get("element_truth") or [e["truth"]] * n)
        labels = [l if isinstance(l, str) else l.get("truth") for l in np.asarray(labels, dtype=object).ravel()]
        names = [e["misconception"] if l == "wrong" else None for l in labels]
        units.append(Unit(e["line"], e["column"], e["claimed"], labels, names))
    units.sort(key=lambda u: (u.line, u.order))
    return units


# --- matching, as the corpus README says -------------------------------------------------------------

def _same(a: float, b: float) -> bool:
    return a == b if b == 0 else abs(a - b) <= 0.005 * abs(b)


def match(key: list[Unit], mine: list[Unit]) -> tuple[list[tuple[str, str, str | None, str | None]], list[str]]:
    """Pairs (key label, checker verdict, key name, checker name) per element, and the verdicts of
    checker elements matched to nothing."""
    pairs = []
    by_line = defaultdict(list)
    for u in mine:
        by_line[u.line].append(u)
    leftovers: dict[int, list] = defaultdict(list)   # line -> [checker unit, element index, used]
    for k in key:   # whole units of the same shape first, in column order
        for m in by_line[k.line]:
            if not m.used and np.shape(m.value) == np.shape(k.value) and \
                    all(_same(a, b) for a, b in zip(m.elements, k.elements)):
                m.used = k.used = True
                pairs.extend(zip(k.labels, m.labels, k.names, m.names))
                break
    for line, units in by_line.items():
        for m in units:
            if not m.used:
                leftovers[line].extend([m, i, False] for i in range(len(m.elements)))
    for k in key:   # then element by element
        if k.used:
            continue
        for i, value in enumerate(k.elements):
            for slot in leftovers[k.line]:
                m, j, used = slot
                if not used and _same(m.elements[j], value):
                    slot[2] = True
                    pairs.append((k.labels[i], m.labels[j], k.names[i], m.names[j]))
                    break
            else:
                pairs.append((k.labels[i], None, k.names[i], None))
    unmatched = [m.labels[j] for slots in leftovers.values() for m, j, used in slots if not used]
    return pairs, unmatched


# --- scoring ----------------------------------------------------------------------------------------

def score(corpus: Path, details: bool) -> tuple[Tally, dict, dict]:
    from nn_tutor.engine.spec import load_spec

    overall, by_problem, by_style = Tally(), defaultdict(Tally), defaultdict(Tally)
    specs: dict[Path, dict] = {}
    for key_path in sorted(corpus.glob("*/key_*.json")):
        key = json.loads(key_path.read_text(encoding="utf-8"))
        folder = key_path.parent
        work = folder / key["submission"]
        spec_path = folder / key["spec"]
        if spec_path not in specs:
            specs[spec_path] = load_spec(str(spec_path))
        t = Tally(submissions=1)
        correct_work = all(e["truth"] == "correct" for e in key["claims"])
        try:
            claims, code = check_claims(work, specs[spec_path])
        except Exception:  # noqa: BLE001 - a crash is a measured outcome
            t.crashes = 1
            claims, code = [], None
            if details:
                traceback.print_exc()
        t.exits["right" if code == (0 if correct_work else 1) else "wrong"] += 1
        pairs, unmatched = match(key_units(key), checker_units(claims))
        for label, verdict, kname, mname in pairs:
            t.keyed[label] += 1
            if verdict is not None:
                t.got[(label, verdict)] += 1
                if label == "wrong" and verdict == "wrong":
                    t.named["right" if kname and NAME_MAP.get(mname, mname) == kname else "wrong"] += 1
        t.unmatched.update(v for v in unmatched if v in ("wrong", "carried"))
        if details:
            _print_details(work, key, claims, pairs, unmatched, code)
        overall.add(t)
        by_problem[folder.name].add(t)
        by_style[_style(key["style"])].add(t)
    return overall, by_problem, by_style


def _style(style: str) -> str:
    """The family of a key's style note: careful, sloppy, LaTeX, Markdown, prose."""
    low = style.lower()
    for word, name in (("latex", "LaTeX"), ("markdown", "Markdown"), ("prose", "prose"),
                       ("careful", "careful"), ("sloppy", "sloppy")):
        if word in low:
            return name
    return style


def _print_details(work, key, claims, pairs, unmatched, code) -> None:
    bad = [p for p in pairs if p[1] is None or not _agrees(p[0], p[1] or "")]
    print(f"\n## {work.name} ({key['style']}): exit {code}, {len(bad)} of {len(pairs)} elements off, "
          f"unmatched checker wrong/carried: {sum(v in ('wrong', 'carried') for v in unmatched)}")


def _pct(pair) -> str:
    n, d = pair
    return f"{n}/{d} ({100 * n / d:.1f} %)" if d else "—"


HEAD = ("flagged", "carried", "alarms", "verdict", "exit", "crashes")


def print_table(title: str, groups: dict[str, Tally]) -> None:
    print(f"\n{title}")
    print(f"| {'':<16} | " + " | ".join(f"{h:<18}" for h in HEAD) + " |")
    print("|" + "---|" * (len(HEAD) + 1))
    for name, t in groups.items():
        m = t.metrics()
        print(f"| {name:<16} | " + " | ".join(f"{_pct(m[h]):<18}" for h in HEAD) + " |")


# --- speed ------------------------------------------------------------------------------------------

def speed(corpus: Path) -> None:
    from nn_tutor.engine.spec import load_spec
    from nn_tutor.tools.homework import check_submission

    spec = load_spec(str(ROOT / "examples" / "r2_two_layer_sigmoid.yaml"))
    data = (ROOT / "examples" / "homework" / "r2_messy_wrong.md").read_bytes()
    check_submission(data, "r2", spec)
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        check_submission(data, "r2", spec)
        times.append(time.perf_counter() - t0)
    print(f"\nin-process check of an R2-sized submission: median {1000 * statistics.median(times):.1f} ms "
          f"(goal ≤ 10 ms)")
    problem = corpus / "sig222"
    subs = sorted(problem.glob("sig222_s*.*"))
    nnt = shutil.which("nnt", path=str(Path(sys.executable).parent)) or "nnt"
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(1000):
            src = subs[i % len(subs)]
            shutil.copy(src, Path(tmp) / f"student{i:04d}{src.suffix}")
        files = sorted(str(p) for p in Path(tmp).iterdir())
        t0 = time.perf_counter()
        proc = subprocess.run([nnt, "check", "--spec", str(problem / "spec_sig222.yaml"), *files,
                               "--csv", str(Path(tmp) / "grades.csv")], capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        rows = (Path(tmp) / "grades.csv").read_text().count("\n") - 1 if (Path(tmp) / "grades.csv").exists() else 0
    print(f"nnt check --csv over 1,000 submissions: {elapsed:.1f} s, {rows} rows, exit {proc.returncode} "
          f"(goal ≤ 20 s on 2 cores)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--details", action="store_true", help="one line per submission")
    parser.add_argument("--quick", action="store_true", help="skip the speed measurements")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus}; give one with --corpus DIR", file=sys.stderr)
        return 2
    overall, by_problem, by_style = score(args.corpus, args.details)
    print_table("per problem", dict(sorted(by_problem.items())))
    print_table("per style", dict(sorted(by_style.items())))
    m = overall.metrics()
    print(f"\nprecision of wrong {_pct(m['precision'])}; verdict accuracy {_pct(m['accuracy_matched'])} of matched, "
          f"{_pct(m['accuracy_all'])} of all; misconception named {_pct(m['naming'])}")
    if not args.quick:
        speed(args.corpus)
    print_table(f"{args.corpus.name}: {overall.submissions} submissions, {sum(overall.keyed.values())} keyed "
                f"elements", {"all": overall})
    return 0


if __name__ == "__main__":
    sys.exit(main())
