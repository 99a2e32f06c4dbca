"""Optional embeddings for the knowledge base from an OpenAI-compatible endpoint, cached on disk.

Off unless the settings name an embedding model (NNT_EMBEDDING_MODEL, e.g. text-embedding-3-small, or
nomic-embed-text on Ollama) and an LLM endpoint is configured; never when offline. The endpoint, key,
timeout and retries are the chat model's. Card vectors are cached in the data dir keyed by model and
text, so only questions are embedded after the first run. A minimum cosine
(NNT_EMBEDDING_MIN_COSINE) lets a question count as covered by meaning alone (default: BM25 decides).
The settings object (agent.config.Settings.embeddings) hands this module an EmbeddingConfig.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class EmbeddingConfig:
    """Everything needed to embed texts: model, endpoint, key, limits, cache folder, coverage cosine."""

    model: str
    base_url: str | None
    api_key: str = field(repr=False)
    timeout_s: float = 30.0
    max_retries: int = 1
    cache_dir: Path | None = None
    min_cosine: float | None = None


class CachedEmbedder:
    """texts -> (n, d) array through `embed_documents`, remembering every text's vector in a file."""

    def __init__(self, client, model: str, cache_dir: Path | None):
        self.client = client
        self.model = model
        self.cache_file = None if cache_dir is None else \
            Path(cache_dir) / f"embeddings-{hashlib.sha256(model.encode()).hexdigest()[:12]}.json"
        self._cache: dict[str, list[float]] = self._read_cache()

    def _read_cache(self) -> dict[str, list[float]]:
        """The cached vectors; an unreadable or damaged cache is ignored (it is only a cache)."""
        if self.cache_file is None:
            return {}
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_cache(self) -> None:
        """Save the vectors; a data dir that cannot be written only costs the cache."""
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            self.cache_file.write_text(json.dumps(self._cache), encoding="utf-8")
        except OSError:
            pass

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        todo = [(k, t) for k, t in zip(keys, texts) if k not in self._cache]
        if todo:
            vectors = self.client.embed_documents([t for _, t in todo])
            self._cache.update({k: list(map(float, v)) for (k, _), v in zip(todo, vectors)})
            if self.cache_file is not None and len(todo) > 1:   # cards, not single questions
                self._write_cache()
        return np.asarray([self._cache[k] for k in keys], dtype=np.float64)   # (n, d)


def embedder_for(config: EmbeddingConfig | None) -> tuple[CachedEmbedder | None, float | None]:
    """(embedder, min_cosine) for the configuration; (None, None) when embeddings are off."""
    if config is None:
        return None, None
    from langchain_openai import OpenAIEmbeddings
    from pydantic import SecretStr

    client = OpenAIEmbeddings(model=config.model, base_url=config.base_url, api_key=SecretStr(config.api_key),
                              check_embedding_ctx_length=False, timeout=config.timeout_s,
                              max_retries=config.max_retries)
    return CachedEmbedder(client, config.model, config.cache_dir), config.min_cosine
