"""Installable anywhere: the shipped data, the wheel and sdist contents, declared and locked dependencies."""
from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from reference import EX

from nn_tutor.resources import example_files, example_path, knowledge_dir, prompt_names, prompt_text

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CODE = ("nn_tutor", "engine", "tools", "agent")


# the shipped data, read through nn_tutor.resources ------------------------------------------------

def test_every_data_file_of_the_checkout_is_reachable_through_resources():
    on_disk = sorted(p.relative_to(ROOT / "examples").as_posix() for p in (ROOT / "examples").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts and p.name != "__init__.py")
    assert [str(f) for f in example_files()] == on_disk
    cards = sorted(p.name for p in (ROOT / "knowledge").glob("*.md"))
    assert sorted(e.name for e in knowledge_dir().iterdir() if e.name.endswith(".md")) == cards
    assert prompt_names() == sorted(p.stem for p in (ROOT / "prompts").glob("*.md"))
    assert prompt_text("explain") == (ROOT / "prompts/explain.md").read_text(encoding="utf-8").strip()


def test_example_names_as_readme_and_help_write_them():
    assert example_path("examples/r2_two_layer_sigmoid.yaml") == EX / "r2_two_layer_sigmoid.yaml"
    assert example_path("homework/r2_wrong.md") == EX / "homework" / "r2_wrong.md"
    assert example_path("examples/llm/attention.yaml").is_file()
    for name in ("examples/missing.yaml", "examples/../pyproject.toml", "examples/", "examples/llm"):
        assert example_path(name) is None, name


def test_package_data_patterns_cover_every_data_file():
    """Each file under knowledge/, prompts/ and examples/ matches a package-data pattern of pyproject."""
    data = PYPROJECT["tool"]["setuptools"]["package-data"]
    folders = PYPROJECT["tool"]["setuptools"]["package-dir"]
    for top in ("nn_tutor.knowledge", "nn_tutor.prompts", "nn_tutor.examples"):
        for path in (ROOT / folders[top]).rglob("*"):
            if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts:
                rel = path.relative_to(ROOT / folders[top])
                package = ".".join([top, *rel.parts[:-1]])  # each subfolder is a package of its own
                assert package in PYPROJECT["tool"]["setuptools"]["packages"], f"{package} is not listed"
                assert any(Path(rel.name).match(p) for p in data.get(package, [])), f"{top}: {rel} is not shipped"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The wheel and sdist, built offline from this checkout with the locked setuptools."""
    out = tmp_path_factory.mktemp("dist")
    shutil.rmtree(ROOT / "build", ignore_errors=True)   # setuptools' staging folder: stale modules leak in
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--wheel", "--sdist", "--outdir",
                           str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return next(out.glob("*.whl")), next(out.glob("*.tar.gz"))


def test_the_wheel_carries_the_code_and_every_card_prompt_and_example(built):
    wheel, _ = built
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, package in (("knowledge", "nn_tutor/knowledge"), ("prompts", "nn_tutor/prompts"),
                            ("examples", "nn_tutor/examples")):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                assert f"{package}/{path.relative_to(ROOT / folder).as_posix()}" in names, path
    assert {"nn_tutor/__init__.py", "nn_tutor/resources.py"} <= names
    for folder in ("engine", "tools", "agent"):      # every module, in every subpackage
        for path in (ROOT / folder).rglob("*.py"):
            assert f"nn_tutor/{path.relative_to(ROOT).as_posix()}" in names, path
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.split("/")[0] in ("engine", "tools", "agent", "tests")]  # no top-level shadows
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "nnt = nn_tutor.agent.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_the_sdist_carries_what_its_tests_need(built):
    import tarfile

    _, sdist = built
    names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    wanted = {"knowledge/rag.md", "prompts/explain.md", "examples/r2_two_layer_sigmoid.yaml",
              "examples/homework/r2_wrong.md", "tests/conftest.py", "tests/reference.py", "requirements.lock",
              "requirements-dev.lock", "Makefile", "pyproject.toml", "benchmarks/conv_naive.py"}
    assert wanted <= names, wanted - names
    assert {str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")} <= names


# dependencies: every import declared, every declared package locked with hashes ---------------------

def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _distribution_of(module: str) -> str | None:
    """The installed distribution whose files hold `module` (None for the standard library and ours)."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "nn_tutor" or top == "__future__":
        return None
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin, f"{module} is imported but not installed"
    origin = Path(spec.origin).resolve()
    for name in packages_distributions().get(top, []):
        files = distribution(name).files or []
        if any(Path(distribution(name).locate_file(f)).resolve() == origin for f in files):
            return canonicalize_name(name)
    raise AssertionError(f"no installed distribution holds {module}")


def test_every_imported_package_is_declared():
    declared = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    missing = {}
    for folder in CODE:
        for path in (ROOT / folder).glob("*.py"):
            for module in _imports(path):
                dist = _distribution_of(module)
                if dist and dist not in declared:
                    missing.setdefault(dist, []).append(f"{folder}/{path.name}: {module}")
    assert not missing, missing


def _locked(name: str) -> dict[str, str]:
    """package -> version for the lines of a lock file that apply here; each must carry a hash."""
    text = (ROOT / name).read_text()
    versions = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        m = re.match(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)(?:\s*;\s*([^\\\n]+))?", block)
        if not m:
            continue
        assert "--hash=sha256:" in block, f"{name}: {m.group(1)} has no hash"
        if m.group(3) and not Requirement(f"x; {m.group(3).strip()}").marker.evaluate():
            continue
        versions[canonicalize_name(m.group(1))] = m.group(2)
    return versions


@pytest.mark.parametrize("lock, extras", [("requirements.lock", ()),
                                          ("requirements-dev.lock", tuple(PYPROJECT["project"]["optional-dependencies"]))])
def test_lock_files_pin_every_declared_dependency_inside_its_range(lock, extras):
    locked = _locked(lock)
    wanted = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        wanted += PYPROJECT["project"]["optional-dependencies"][extra]
    for line in wanted:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in locked, f"{lock}: {name} is not locked"
        assert req.specifier.contains(locked[name], prereleases=True), f"{lock}: {name}=={locked[name]} vs {req}"


def test_the_locks_agree_and_the_test_venv_was_installed_from_the_lock():
    dev, run = _locked("requirements-dev.lock"), _locked("requirements.lock")
    assert {k: v for k, v in dev.items() if k in run} == run
    for name, version in dev.items():
        assert distribution(name).version == version, name
