"""Concept cards: one Markdown file per card in knowledge/, a YAML front matter and a 100-300 word body.

Front matter fields: id (the file name without .md), title, tags (a list), related (ids of other
cards) and optionally try ("nnt walk examples/...": where the engine computes the card's numbers).
Loading validates every field so a broken card fails with a one-line message naming the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from nn_tutor.engine.errors import NNTError
from nn_tutor.resources import knowledge_dir

KNOWLEDGE_DIR = knowledge_dir()  # the cards shipped inside the package
BODY_WORDS = (100, 300)  # a card's body is short enough to read in a minute, long enough to teach
ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Card:
    """One concept card."""

    id: str
    title: str
    tags: tuple[str, ...]
    body: str
    related: tuple[str, ...] = ()
    try_command: str | None = None  # e.g. "nnt walk examples/llm/attention.yaml"

    @property
    def lead(self) -> str:
        """The first paragraph of the body: the card's short answer."""
        return self.body.strip().split("\n\n", 1)[0].strip()


def parse_card(text: str, source: str) -> Card:
    """A Card from one file's text; `source` names the file in error messages."""
    import yaml

    match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    if not match:
        raise NNTError(f"{source}: a card starts with a '---' front-matter block closed by '---'")
    try:
        meta = yaml.load(match.group(1), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise NNTError(f"{source}: front matter is not valid YAML ({str(exc).splitlines()[0]})") from None
    body = match.group(2).strip()
    for key in ("id", "title", "tags"):
        if not meta.get(key):
            raise NNTError(f"{source}: front matter needs '{key}'")
    if not isinstance(meta["tags"], list) or not isinstance(meta.get("related", []), list):
        raise NNTError(f"{source}: 'tags' and 'related' must be lists, e.g. tags: [relu, activation]")
    card_id = str(meta["id"])
    if not ID.match(card_id):
        raise NNTError(f"{source}: id '{card_id}' must be lower-case words joined by '-'")
    words = len(body.split())
    if not BODY_WORDS[0] <= words <= BODY_WORDS[1]:
        raise NNTError(f"{source}: the body has {words} words; keep it between {BODY_WORDS[0]} and "
                       f"{BODY_WORDS[1]}")
    command = meta.get("try")
    if command is not None and not str(command).startswith("nnt "):
        raise NNTError(f"{source}: 'try' must be an nnt command, e.g. try: nnt walk examples/...")
    return Card(card_id, str(meta["title"]), tuple(str(t) for t in meta["tags"]), body,
                tuple(str(r) for r in meta.get("related", [])), command)


def load_cards(directory: Traversable | Path | str = KNOWLEDGE_DIR) -> list[Card]:
    """Every card in `directory`, sorted by id; ids match file names and related ids exist."""
    folder = Path(directory) if isinstance(directory, str) else directory
    paths = sorted((p for p in folder.iterdir() if p.name.endswith(".md")), key=lambda p: p.name)
    if not paths:
        raise NNTError(f"no cards found in {directory}; the knowledge base needs knowledge/*.md files")
    cards = []
    for path in paths:
        stem = path.name[:-3]
        card = parse_card(path.read_text(encoding="utf-8"), path.name)
        if card.id != stem:
            raise NNTError(f"{path.name}: id '{card.id}' must match the file name '{stem}'")
        cards.append(card)
    ids = {c.id for c in cards}
    for card in cards:
        missing = [r for r in card.related if r not in ids]
        if missing:
            raise NNTError(f"{card.id}.md: related card(s) {', '.join(missing)} do not exist")
    return cards
