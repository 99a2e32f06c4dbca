"""Optional embeddings for the knowledge base from an OpenAI-compatible endpoint, cached on disk.

Off unless NNT_EMBEDDING_MODEL is set (e.g. text-embedding-3-small, or nomic-embed-text on Ollama);
the endpoint and key are OPENAI_BASE_URL and OPENAI_API_KEY, as for the chat model. Card vectors are
cached under NNT_DATA_DIR keyed by model and text, so only questions are embedded after the first run.
NNT_EMBEDDING_MIN_COSINE lets a question count as covered by meaning alone (default: BM25 decides).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from nn_tutor.engine.errors import NNTError


class CachedEmbedder:
    """texts -> (n, d) array through `embed_documents`, remembering every text's vector in a file."""

    def __init__(self, client, model: str, cache_dir: Path | None):
        self.client = client
        self.model = model
        self.cache_file = None if cache_dir is None else \
            Path(cache_dir) / f"embeddings-{hashlib.sha256(model.encode()).hexdigest()[:12]}.json"
        self._cache: dict[str, list[float]] = {}
        if self.cache_file is not None and self.cache_file.exists():
            self._cache = json.loads(self.cache_file.read_text())

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        todo = [(k, t) for k, t in zip(keys, texts) if k not in self._cache]
        if todo:
            vectors = self.client.embed_documents([t for _, t in todo])
            self._cache.update({k: list(map(float, v)) for (k, _), v in zip(todo, vectors)})
            if self.cache_file is not None and len(todo) > 1:   # cards, not single questions
                self.cache_file.parent.mkdir(parents=True, exist_ok=True)
                self.cache_file.write_text(json.dumps(self._cache))
        return np.asarray([self._cache[k] for k in keys], dtype=np.float64)   # (n, d)


def embedder_from_env() -> tuple[CachedEmbedder | None, float | None]:
    """(embedder, min_cosine) from the environment; (None, None) when embeddings are not configured."""
    model = os.environ.get("NNT_EMBEDDING_MODEL", "").strip()
    if not model or os.environ.get("NNT_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return None, None
    min_cos = os.environ.get("NNT_EMBEDDING_MIN_COSINE", "").strip()
    try:
        min_cosine = float(min_cos) if min_cos else None
    except ValueError:
        raise NNTError(f"NNT_EMBEDDING_MIN_COSINE must be a number such as 0.5, got {min_cos!r}") from None
    from langchain_openai import OpenAIEmbeddings
    from pydantic import SecretStr

    base_url = os.environ.get("OPENAI_BASE_URL", "").strip() or None
    key = os.environ.get("OPENAI_API_KEY", "").strip() or "not-needed"
    client = OpenAIEmbeddings(model=model, base_url=base_url, api_key=SecretStr(key),
                              check_embedding_ctx_length=False, timeout=30, max_retries=1)
    data_dir = os.environ.get("NNT_DATA_DIR", "").strip()
    return CachedEmbedder(client, model, Path(data_dir) if data_dir else None), min_cosine
