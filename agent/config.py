"""The tutor's settings: model, endpoint, key, timeouts; explicit option > environment > default.

With neither OPENAI_API_KEY nor OPENAI_BASE_URL set the tutor runs offline (the default on a fresh
machine). The API key is held in a field that never appears in repr(), str() or describe().
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from nn_tutor.engine.errors import NNTError

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 30.0  # seconds one LLM request may take before the turn falls back offline
DEFAULT_MAX_RETRIES = 1  # bounded retries of a failed request (connection errors, 5xx, 429)
DEFAULT_CONTEXT_TOKENS = 4096  # the model's context window; every prompt is sized to fit it
LOCAL_KEY = "not-needed"  # local servers (Ollama, vLLM, llama.cpp, LM Studio) accept any key


@dataclass(frozen=True)
class Settings:
    """Resolved settings; `llm_enabled` is False when no endpoint is configured or offline is forced."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None  # None means the OpenAI default endpoint (needs a key)
    api_key: str | None = field(default=None, repr=False)  # never printed, logged or rendered
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES
    offline: bool = False  # forced offline (--offline or NNT_OFFLINE=1)
    context_tokens: int = DEFAULT_CONTEXT_TOKENS  # the model's context window (NNT_CONTEXT_TOKENS)
    data_dir: Path = Path(".")
    sources: dict[str, str] = field(default_factory=dict, compare=False)  # field -> option|env|default

    @property
    def llm_enabled(self) -> bool:
        """True when an LLM endpoint is configured and offline mode is not forced."""
        return not self.offline and (self.api_key is not None or self.base_url is not None)

    @property
    def key_for_client(self) -> str:
        """The key handed to the OpenAI client (a placeholder for keyless local servers)."""
        return self.api_key or LOCAL_KEY

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, value, where it came from) rows for `nnt doctor`; the key shows only set/unset."""
        key = "set (hidden)" if self.api_key else "not set"
        return [
            ("mode", "LLM" if self.llm_enabled else "offline", ""),
            ("model", self.model, self.sources.get("model", "default")),
            ("base URL", self.base_url or "(OpenAI default)", self.sources.get("base_url", "default")),
            ("API key", key, self.sources.get("api_key", "default")),
            ("timeout", f"{self.timeout_s:g} s", self.sources.get("timeout_s", "default")),
            ("retries", str(self.max_retries), self.sources.get("max_retries", "default")),
            ("context", f"{self.context_tokens} tokens", self.sources.get("context_tokens", "default")),
            ("data dir", str(self.data_dir), self.sources.get("data_dir", "default")),
        ]


def _pick(name: str, explicit, env_var: str, default, sources: dict[str, str]):
    """explicit (not None) > non-empty environment variable > default; records which one won."""
    if explicit is not None:
        sources[name] = "option"
        return explicit
    value = os.environ.get(env_var, "").strip()
    if value:
        sources[name] = f"env {env_var}"
        return value
    sources[name] = "default"
    return default


def _number(name: str, text, kind, minimum):
    """Convert a setting to int/float with a one-line error naming the variable."""
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise NNTError(f"{name} must be a number, got {text!r}; set it to e.g. {kind(minimum + 1)}") from None
    if value < minimum:
        raise NNTError(f"{name} must be at least {minimum}, got {value}")
    return value


def default_data_dir() -> Path:
    """Where sessions and history live: NNT_DATA_DIR if set, else the platform's user data dir."""
    override = os.environ.get("NNT_DATA_DIR", "").strip()
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("nn-tutor", appauthor=False))


def load_settings(model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                  timeout_s: float | None = None, max_retries: int | None = None,
                  offline: bool | None = None, data_dir: str | Path | None = None,
                  context_tokens: int | None = None) -> Settings:
    """Resolve every setting: explicit argument > environment variable > default."""
    sources: dict[str, str] = {}
    model = _pick("model", model, "NNT_MODEL", DEFAULT_MODEL, sources)
    base_url = _pick("base_url", base_url, "OPENAI_BASE_URL", None, sources)
    api_key = _pick("api_key", api_key, "OPENAI_API_KEY", None, sources)
    timeout = _number("NNT_TIMEOUT", _pick("timeout_s", timeout_s, "NNT_TIMEOUT", DEFAULT_TIMEOUT_S,
                                            sources), float, 0.1)
    retries = _number("NNT_MAX_RETRIES", _pick("max_retries", max_retries, "NNT_MAX_RETRIES",
                                                DEFAULT_MAX_RETRIES, sources), int, 0)
    context = _number("NNT_CONTEXT_TOKENS", _pick("context_tokens", context_tokens, "NNT_CONTEXT_TOKENS",
                                                  DEFAULT_CONTEXT_TOKENS, sources), int, 1024)
    forced = _pick("offline", offline, "NNT_OFFLINE", False, sources)
    if isinstance(forced, str):
        forced = forced.lower() in ("1", "true", "yes", "on")
    if data_dir is not None:
        sources["data_dir"] = "option"
        folder = Path(data_dir)
    else:
        sources["data_dir"] = "env NNT_DATA_DIR" if os.environ.get("NNT_DATA_DIR", "").strip() else "default"
        folder = default_data_dir()
    return Settings(model=str(model), base_url=(base_url or None), api_key=(api_key or None),
                    timeout_s=timeout, max_retries=retries, offline=bool(forced), data_dir=folder,
                    context_tokens=context,
                    sources=sources)
