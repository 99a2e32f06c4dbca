"""The data shipped inside the package: concept cards, prompts, example specs and sample homework.

Every reader goes through here (importlib.resources), so the same code works from a checkout, an
editable install and an installed wheel. The folders knowledge/, prompts/ and examples/ are installed
as the packages nn_tutor.knowledge, nn_tutor.prompts and nn_tutor.examples.
"""
from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from nn_tutor.engine.errors import NNTError

EXAMPLE_SUFFIXES = (".yaml", ".yml", ".json", ".md", ".txt", ".png")
EXAMPLES_PREFIX = "examples"  # how README, --help and the cards name the shipped examples


def knowledge_dir() -> Traversable:
    """The folder of concept cards (knowledge/*.md)."""
    return files("nn_tutor.knowledge")


def examples_dir() -> Traversable:
    """The folder of example specs (examples/*.yaml, examples/llm/) and homework (examples/homework/)."""
    return files("nn_tutor.examples")


def prompt_text(name: str) -> str:
    """The text of the prompt prompts/NAME.md, stripped."""
    source = files("nn_tutor.prompts") / f"{name}.md"
    if not source.is_file():
        raise NNTError(f"prompt '{name}' is missing from this installation; reinstall nn-tutor")
    return source.read_text(encoding="utf-8").strip()


def prompt_names() -> list[str]:
    """Names of the shipped prompts (prompts/*.md without the suffix), sorted."""
    return sorted(p.name[:-3] for p in files("nn_tutor.prompts").iterdir() if p.name.endswith(".md"))


def example_files() -> list[PurePosixPath]:
    """Every shipped example file, relative to examples/ (e.g. homework/r2_wrong.md), sorted."""
    found: list[PurePosixPath] = []

    def visit(folder: Traversable, rel: PurePosixPath) -> None:
        for entry in folder.iterdir():
            if entry.name.startswith(("_", ".")):
                continue  # the package marker and caches are not examples
            if entry.is_dir():
                visit(entry, rel / entry.name)
            elif entry.name.endswith(EXAMPLE_SUFFIXES):
                found.append(rel / entry.name)

    visit(examples_dir(), PurePosixPath())
    return sorted(found)


def local_or_shipped(path: str) -> str:
    """`path` itself when it exists (or is '-'); else the shipped example it names as examples/...

    So `nnt walk examples/r2_two_layer_sigmoid.yaml` works in any folder, and a file of yours wins.
    """
    if path == "-" or Path(path).exists() or not path.replace("\\", "/").startswith(EXAMPLES_PREFIX + "/"):
        return path
    shipped = example_path(path)
    return str(shipped) if shipped else path


def example_path(name: str | Path) -> Path | None:
    """The shipped example named like `examples/r2_two_layer_sigmoid.yaml` (or without `examples/`).

    None when no such example ships. The examples are installed as plain files, so this is a path.
    """
    parts = PurePosixPath(str(name).replace("\\", "/")).parts
    if parts[:1] == (EXAMPLES_PREFIX,):
        parts = parts[1:]
    if not parts or any(p in ("..", "") for p in parts):
        return None
    target = examples_dir().joinpath(*parts)
    return Path(str(target)) if target.is_file() else None
