"""Report the tutor's configuration and probe the LLM endpoint with a short timeout.

Example:
  nnt doctor
  OPENAI_BASE_URL=http://localhost:11434/v1 NNT_MODEL=llama3.2 nnt doctor

Shows the mode (LLM or offline), model, endpoint, whether a key is set (never the key), where each
setting came from, the data dir, and whether the checker and knowledge base are available.
Exit 0 when everything answers (or offline by choice), 1 when the configured endpoint does not.
"""
from __future__ import annotations

import argparse

PROBE_TIMEOUT_S = 3.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `nnt doctor`."""
    parser.add_argument("--model", help="model name (overrides NNT_MODEL)")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint (overrides OPENAI_BASE_URL)")
    parser.add_argument("--timeout", type=float, default=PROBE_TIMEOUT_S,
                        help=f"seconds to wait for the endpoint (default {PROBE_TIMEOUT_S:g})")


def probe(settings, timeout_s: float) -> tuple[bool, str]:
    """GET {base_url}/models with the key (if any); (ok, one-line result). The key is never shown."""
    import httpx

    base = (settings.base_url or "https://api.openai.com/v1").rstrip("/")
    headers = {"Authorization": f"Bearer {settings.key_for_client}"}
    try:
        response = httpx.get(f"{base}/models", headers=headers, timeout=timeout_s)
    except httpx.TimeoutException:
        return False, f"no answer from {base} within {timeout_s:g} s"
    except (httpx.HTTPError, OSError) as exc:
        return False, f"cannot reach {base} ({exc.__class__.__name__}); check OPENAI_BASE_URL"
    if response.status_code == 401:
        return False, "the endpoint refused the key (HTTP 401); check OPENAI_API_KEY"
    if response.status_code >= 400:
        return False, f"the endpoint answered HTTP {response.status_code}"
    try:
        ids = [m.get("id") for m in response.json().get("data", [])]
    except ValueError:
        ids = []
    listed = "" if not ids else (" (model listed)" if settings.model in ids
                                 else f" (model '{settings.model}' not in its list of {len(ids)})")
    return True, f"{base} answered{listed}"


def _component(module: str) -> str:
    import importlib

    try:
        importlib.import_module(module)
    except ImportError as exc:
        return f"missing ({exc.name})"
    return "available"


def run(args: argparse.Namespace) -> int:
    """Print the report and probe the endpoint."""
    import os

    from nn_tutor.agent.config import load_settings

    settings = load_settings(model=args.model, base_url=args.base_url)
    rows = settings.describe()
    rows.append(("homework checker", _component("nn_tutor.tools.homework"), ""))
    rows.append(("knowledge base", _component("nn_tutor.tools.knowledge"), ""))
    embedding_model = os.environ.get("NNT_EMBEDDING_MODEL", "").strip()
    rows.append(("embeddings", embedding_model or "off (BM25 only; set NNT_EMBEDDING_MODEL to fuse them in)",
                 "env NNT_EMBEDDING_MODEL" if embedding_model else ""))
    status = 0
    if settings.llm_enabled:
        ok, text = probe(settings, args.timeout)
        rows.append(("endpoint", ("ok: " if ok else "FAILED: ") + text, ""))
        status = 0 if ok else 1
    else:
        rows.append(("endpoint", "not probed (offline: set OPENAI_API_KEY or OPENAI_BASE_URL to use an LLM)", ""))
    width = max(len(r[0]) for r in rows)
    for name, value, source in rows:
        print(f"{name:<{width}}  {value}" + (f"  [{source}]" if source else ""))
    return status
