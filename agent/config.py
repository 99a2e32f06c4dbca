"""The tutor's settings: one object that every module reads (pydantic-settings).

Precedence: an explicit option (`nnt ... --model X`, `load_settings(model=X)`) > the environment
(`NNT_MODEL`, `OPENAI_BASE_URL`, ...) > the config file (`config.toml` under the user's XDG config
dir, or the file NNT_CONFIG names) > the default. An empty environment variable counts as unset.
With neither an API key nor a base URL the tutor runs offline (the default on a fresh machine);
offline forced (`--offline`, `NNT_OFFLINE=1`, `offline = true`) means no network at all, embeddings
included. The API key is never shown: not in repr(), str() or describe().

    # ~/.config/nn-tutor/config.toml
    model = "llama3.2"
    base_url = "http://localhost:11434/v1"
    timeout = 60
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from nn_tutor.engine.errors import NNTError
from nn_tutor.tools.embeddings import EmbeddingConfig

APP = "nn-tutor"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_S = 30.0  # seconds one LLM request may take before the turn falls back offline
DEFAULT_MAX_RETRIES = 1  # bounded retries of a failed request (connection errors, 5xx, 429)
DEFAULT_CONTEXT_TOKENS = 4096  # the model's context window; every prompt is sized to fit it
LOCAL_KEY = "not-needed"  # local servers (Ollama, vLLM, llama.cpp, LM Studio) accept any key

# field -> (environment variable, key in the config file)
NAMES: dict[str, tuple[str, str]] = {
    "model": ("NNT_MODEL", "model"),
    "base_url": ("OPENAI_BASE_URL", "base_url"),
    "api_key": ("OPENAI_API_KEY", "api_key"),
    "timeout_s": ("NNT_TIMEOUT", "timeout"),
    "max_retries": ("NNT_MAX_RETRIES", "max_retries"),
    "offline": ("NNT_OFFLINE", "offline"),
    "data_dir": ("NNT_DATA_DIR", "data_dir"),
    "embedding_model": ("NNT_EMBEDDING_MODEL", "embedding_model"),
    "embedding_min_cosine": ("NNT_EMBEDDING_MIN_COSINE", "embedding_min_cosine"),
    "context_tokens": ("NNT_CONTEXT_TOKENS", "context_tokens"),
}
EXAMPLES = {"timeout_s": "30", "max_retries": "1", "offline": "1 (or 0)", "embedding_min_cosine": "0.5",
            "context_tokens": "4096"}


def config_file() -> Path:
    """The config file: NNT_CONFIG if set, else config.toml in the user's config dir (XDG on Linux)."""
    override = os.environ.get("NNT_CONFIG", "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / "config.toml"


def default_data_dir() -> Path:
    """Where sessions, history and the embedding cache live by default: the user's data dir."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


class Settings(BaseSettings):
    """Resolved settings; `llm_enabled` is False when no endpoint is configured or offline is forced."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    model: str = Field(DEFAULT_MODEL, min_length=1)
    base_url: str | None = None  # None means the OpenAI default endpoint (needs a key)
    api_key: str | None = Field(None, repr=False, exclude=True)  # never printed, logged or rendered
    timeout_s: float = Field(DEFAULT_TIMEOUT_S, ge=0.1)
    max_retries: int = Field(DEFAULT_MAX_RETRIES, ge=0)
    offline: bool = False  # forced offline: no LLM, no embeddings, no network at all
    data_dir: Path = Field(default_factory=default_data_dir)
    embedding_model: str | None = None  # e.g. text-embedding-3-small; None = BM25 only
    embedding_min_cosine: float | None = Field(None, ge=-1.0, le=1.0)
    context_tokens: int = Field(DEFAULT_CONTEXT_TOKENS, ge=1024)
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)  # field -> option | env X | config | default

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        """explicit arguments > environment > config file > defaults (no .env, no secrets dir)."""
        return init_settings, _EnvironmentSource(settings_cls), _ConfigFileSource(settings_cls)

    @property
    def sources(self) -> dict[str, str]:
        """Where each setting came from: 'option', 'env NNT_X', 'config FILE' or 'default'."""
        return dict(self._sources)

    @property
    def llm_enabled(self) -> bool:
        """True when an LLM endpoint is configured and offline mode is not forced."""
        return not self.offline and (self.api_key is not None or self.base_url is not None)

    @property
    def key_for_client(self) -> str:
        """The key handed to the OpenAI client (a placeholder for keyless local servers)."""
        return self.api_key or LOCAL_KEY

    @property
    def embeddings(self) -> EmbeddingConfig | None:
        """What the knowledge base needs to embed texts; None when embeddings are off or offline."""
        if not self.embedding_model or not self.llm_enabled:
            return None
        return EmbeddingConfig(model=self.embedding_model, base_url=self.base_url, api_key=self.key_for_client,
                               timeout_s=self.timeout_s, max_retries=self.max_retries,
                               cache_dir=self.data_dir, min_cosine=self.embedding_min_cosine)

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, value, where it came from) rows for `nnt doctor`; the key shows only set/unset."""
        src = self._sources.get
        key = "set (hidden)" if self.api_key else "not set"
        if self.embedding_model and not self.embeddings:
            embeddings = f"{self.embedding_model} (off: offline)"
        else:
            embeddings = self.embedding_model or "off (BM25 only; set NNT_EMBEDDING_MODEL to fuse them in)"
        return [
            ("mode", "LLM" if self.llm_enabled else "offline", src("offline", "default")),
            ("model", self.model, src("model", "default")),
            ("base URL", self.base_url or "(OpenAI default)", src("base_url", "default")),
            ("API key", key, src("api_key", "default")),
            ("timeout", f"{self.timeout_s:g} s", src("timeout_s", "default")),
            ("retries", str(self.max_retries), src("max_retries", "default")),
            ("context", f"{self.context_tokens} tokens", src("context_tokens", "default")),
            ("embeddings", embeddings, src("embedding_model", "default")),
            ("data dir", str(self.data_dir), src("data_dir", "default")),
            ("config file", str(config_file()) + ("" if config_file().is_file() else " (none)"), ""),
        ]


class _EnvironmentSource(PydanticBaseSettingsSource):
    """The environment variables of NAMES, exactly as spelled there; empty ones count as unset."""

    def get_field_value(self, field, field_name: str):
        value = os.environ.get(NAMES[field_name][0], "").strip()
        return (value or None), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {name: value for name in NAMES if (value := self.get_field_value(None, name)[0]) is not None}


class _ConfigFileSource(PydanticBaseSettingsSource):
    """The TOML config file, keys as in NAMES (model, base_url, timeout, ...); a missing file is fine."""

    def get_field_value(self, field, field_name: str):
        return self().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return read_config_file(config_file())


def read_config_file(path: Path) -> dict[str, Any]:
    """The config file's settings by field name; unreadable files and unknown keys name the fix."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise NNTError(f"cannot read the config file {path} ({exc.__class__.__name__}); fix or remove it") from None
    except tomllib.TOMLDecodeError as exc:
        raise NNTError(f"the config file {path} is not valid TOML ({exc}); fix or remove it") from None
    by_key = {key: name for name, (_, key) in NAMES.items()}
    unknown = sorted(set(data) - set(by_key))
    if unknown:
        raise NNTError(f"unknown setting(s) {', '.join(unknown)} in {path}; known: {', '.join(by_key)}")
    return {by_key[key]: value for key, value in data.items()}


def load_settings(model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                  timeout_s: float | None = None, max_retries: int | None = None,
                  offline: bool | None = None, data_dir: str | Path | None = None,
                  **more: Any) -> Settings:
    """Resolve every setting: explicit argument (not None) > environment > config file > default.

    `more` takes the other fields by name (embedding_model, embedding_min_cosine, context_tokens).
    """
    explicit = {k: v for k, v in dict(model=model, base_url=base_url, api_key=api_key, timeout_s=timeout_s,
                                      max_retries=max_retries, offline=offline, data_dir=data_dir,
                                      **more).items() if v is not None}
    unknown = sorted(set(explicit) - set(NAMES))
    if unknown:
        raise NNTError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(NAMES)}")
    environment = _EnvironmentSource(Settings)()
    path = config_file()
    in_file = read_config_file(path)
    sources = {}
    for name, (env_var, _) in NAMES.items():
        sources[name] = ("option" if name in explicit else f"env {env_var}" if name in environment
                         else f"config {path}" if name in in_file else "default")
    try:
        settings = Settings(**explicit)
    except ValidationError as exc:
        raise NNTError(_first_problem(exc, sources)) from None
    settings._sources.update(sources)
    return settings


def _first_problem(exc: ValidationError, sources: dict[str, str]) -> str:
    """One line for the first invalid setting: its name where the user set it, the problem, the fix."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error.get("loc") else ""
    env_var, key = NAMES.get(field, (field, field))
    where = sources.get(field, "")
    name = env_var if where.startswith("env") or where == "default" else \
        f"{key} in {where[len('config '):]}" if where.startswith("config") else field
    kind, given, ctx = error.get("type", ""), error.get("input"), error.get("ctx") or {}
    if kind == "too_short":
        return f"{name} must not be empty"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = "at least" if kind == "greater_than_equal" else "at most"
        return f"{name} must be {bound} {ctx.get('ge', ctx.get('le'))}, got {given!r}"
    wanted = {"float": "a number", "int": "a whole number", "bool": "true or false"}.get(kind.split("_")[0])
    if wanted:
        return f"{name} must be {wanted}, got {given!r}; set it to e.g. {EXAMPLES.get(field, '...')}"
    if kind == "extra_forbidden":
        return f"unknown setting {field}; known: {', '.join(NAMES)}"
    return f"{name}: {error.get('msg', 'invalid value')} (got {given!r})"
