"""`nnt check`: exit codes, output formats, teacher CSV, structured answers, unusable input."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nn_tutor.agent.cli import main
from reference import EX

ROOT = Path(__file__).resolve().parents[1]
R2 = str(EX / "r2_two_layer_sigmoid.yaml")
HW = EX / "homework"


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_all_right_exits_0(tmp_path, capsys):
    work = tmp_path / "w.txt"
    work.write_text("z = 0.15 × 0.5 + 0.2 × 0.8 + 0.35 = 0.585\n", encoding="utf-8")
    code, out, _ = run(["check", str(work)], capsys)
    assert code == 0
    assert "correct" in out and "score 100%" in out


def test_wrong_exits_1_and_json_fields(capsys):
    code, out, _ = run(["check", str(HW / "r2_wrong.md"), "--spec", R2, "--format", "json"], capsys)
    assert code == 1
    claims = json.loads(out)
    assert isinstance(claims, list)
    for c in claims:
        assert {"line", "text", "claimed", "expected", "verdict", "misconception", "hint"} <= set(c)
    by_line = {c["line"]: c for c in claims if c["step_id"]}
    # net_h1: 0.075 + 0.16 + 0.35 = 0.585, the student wrote 0.595
    assert by_line[6]["verdict"] == "wrong" and by_line[6]["expected"] == pytest.approx(0.585)
    assert by_line[7]["verdict"] == "carried"            # σ(0.595) follows from the slip
    assert by_line[13]["misconception"] == "missing_half"
    assert by_line[16]["misconception"] == "update_sign"
    assert [c["verdict"] for c in claims].count("wrong") == 3


def test_correct_sample_with_spec(capsys):
    code, out, _ = run(["check", str(HW / "r2_correct.md"), "--spec", R2], capsys)
    assert code == 0, out


def test_markdown_format(capsys):
    code, out, _ = run(["check", str(HW / "r2_wrong.md"), "--spec", R2, "--format", "markdown"], capsys)
    assert code == 1
    assert "| line | claim | verdict |" in out and "✗ wrong" in out


def test_structured_answers(capsys):
    code, out, _ = run(["check", str(HW / "r8_answers.yaml"), "--format", "json"], capsys)
    assert code == 1
    claims = {c["label"]: c for c in json.loads(out)}
    assert claims["L2.W_new"]["verdict"] == "wrong"       # 3 + 0.1·4 = 3.4; right is 3 − 0.4 = 2.6
    assert claims["L2.W_new"]["misconception"] == "update_sign"
    assert claims["L1.W_new"]["verdict"] == "correct"     # 2 − 0.1·6 = 1.4


def test_teacher_csv(tmp_path, capsys):
    good = tmp_path / "alice.txt"
    good.write_text((HW / "r2_correct.md").read_text(encoding="utf-8"), encoding="utf-8")
    bad = tmp_path / "bob.txt"
    bad.write_text((HW / "r2_wrong.md").read_text(encoding="utf-8"), encoding="utf-8")
    junk = tmp_path / "carol.txt"
    junk.write_bytes(b"\x00\x01\x02binary")
    grades = tmp_path / "grades.csv"
    code, _, _ = run(["check", "--spec", R2, str(good), str(bad), str(junk), "--csv", str(grades)], capsys)
    assert code == 2                                      # one submission unusable, the others graded
    rows = {Path(r["submission"]).name: r for r in csv.DictReader(grades.open(encoding="utf-8"))}
    assert rows["alice.txt"]["wrong"] == "0" and float(rows["alice.txt"]["score"]) == 1.0
    assert rows["bob.txt"]["wrong"] == "3"
    assert "missing_half" in rows["bob.txt"]["misconceptions"]
    assert rows["carol.txt"]["score"] == ""


@pytest.mark.parametrize("content, fragment", [
    (b"\x00\xff\xfe junk \x00" * 1000, "binary"),
    (b"\xff\xfe\xfa not utf-8", "UTF-8"),
    (b"x = 1 + 1 = 2\n" * 100_000, "at most"),           # a 1.4 MB paste
])
def test_unusable_input_exits_2_fast(tmp_path, capsys, content, fragment):
    work = tmp_path / "w.txt"
    work.write_bytes(content)
    start = time.perf_counter()
    code, out, err = run(["check", str(work)], capsys)
    assert time.perf_counter() - start < 1.0
    assert code == 2 and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_file_exits_2(capsys):
    code, _, err = run(["check", "no/such/file.txt"], capsys)
    assert code == 2 and "not found" in err


def test_hostile_expressions_finish_fast(tmp_path, capsys):
    work = tmp_path / "w.txt"
    work.write_text("a = 9^9^9^9 = 3\nb = " + "(" * 10_000 + "1" + ")" * 10_000 + " = 1\n", encoding="utf-8")
    start = time.perf_counter()
    code, out, err = run(["check", str(work)], capsys)
    assert time.perf_counter() - start < 1.0
    assert code in (0, 2) and "Traceback" not in err


def test_help_has_an_example_and_the_module_stays_light():
    out = subprocess.run([sys.executable, "-m", "nn_tutor.agent.cli", "check", "--help"], capture_output=True,
                         text=True, cwd=ROOT, timeout=60).stdout
    assert "nnt check" in out and "--spec" in out and "--csv" in out
    probe = ("import sys, nn_tutor.agent.cmd_check; "
             "print(sorted(m for m in ('numpy', 'rich', 'nn_tutor.tools.homework', 'yaml') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                            timeout=60).stdout.strip()
    assert loaded == "[]"


def test_structured_form_with_the_spec_inline(capsys):
    # R8 by hand: z1 = 2·1 + 0 = 2; ∂L/∂W2 = (7 − 5)·2 = 4; W2_new = 3 − 0.1·4 = 2.6; L = ½(7 − 5)² = 2
    code, out, _ = run(["check", str(HW / "r8_inline_answers.yaml"), "--format", "json"], capsys)
    assert code == 1
    claims = {c["label"]: c for c in json.loads(out)}
    assert claims["loss"]["verdict"] == "wrong" and claims["loss"]["misconception"] == "missing_half"
    assert claims["loss"]["line"] == 13
    assert [claims[k]["verdict"] for k in ("z1", "∂L/∂W2", "L2.W_new")] == ["correct"] * 3
