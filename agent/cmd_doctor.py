"""Report the tutor's configuration and probe the LLM endpoint with a short timeout.

Example:
  nnt doctor
  OPENAI_BASE_URL=http://localhost:11434/v1 NNT_MODEL=llama3.2 nnt doctor

Shows the mode (LLM or offline), model, endpoint, whether a key is set (never the key), where each
setting came from (option, environment, config file, default), the data dir, and the shipped data it
actually loads: the concept cards, the prompts and the example specs.
Exit 0 when everything loads and answers (or offline by choice), 1 when something does not.
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


def shipped_data() -> list[tuple[str, bool, str]]:
    """(component, loaded, what was found) for the checker and the data shipped inside the package.

    Each is really loaded (cards parsed and validated, prompts read, examples listed), so a report of
    'loaded' means the tutor can use it.
    """
    from nn_tutor.engine.errors import NNTError

    def homework_checker() -> str:
        import nn_tutor.tools.homework  # noqa: F401 - importing is the check

        return "available"

    def cards() -> str:
        from nn_tutor.resources import knowledge_dir
        from nn_tutor.tools.cards import load_cards

        return f"{len(load_cards())} cards from {knowledge_dir()}"

    def prompts() -> str:
        from nn_tutor.resources import prompt_names, prompt_text

        names = prompt_names()
        if not names:
            raise NNTError("no prompts found")
        return f"{len(names)} loaded ({', '.join(n for n in names if prompt_text(n))})"

    def examples() -> str:
        from nn_tutor.resources import example_files

        found = example_files()
        if not found:
            raise NNTError("no example files found")
        homework = sum(1 for f in found if f.parts[0] == "homework")
        return f"{len(found) - homework} specs and {homework} homework files (nnt examples copies them)"

    rows = []
    for name, load in (("homework checker", homework_checker), ("knowledge base", cards),
                       ("prompts", prompts), ("examples", examples)):
        try:
            rows.append((name, True, load()))
        except (ImportError, OSError, NNTError) as exc:
            rows.append((name, False, f"{exc.__class__.__name__}: {exc}"))
    return rows


def run(args: argparse.Namespace) -> int:
    """Print the report and probe the endpoint."""
    from nn_tutor.agent.config import load_settings

    settings = load_settings(model=args.model, base_url=args.base_url)
    rows = settings.describe()
    data = shipped_data()
    rows += [(name, ("" if ok else "FAILED: ") + text, "") for name, ok, text in data]
    status = 0 if all(ok for _, ok, _ in data) else 1
    if settings.llm_enabled:
        ok, text = probe(settings, args.timeout)
        rows.append(("endpoint", ("ok: " if ok else "FAILED: ") + text, ""))
        status = status if ok else 1
    else:
        rows.append(("endpoint", "not probed (offline: set OPENAI_API_KEY or OPENAI_BASE_URL to use an LLM)", ""))
    width = max(len(r[0]) for r in rows)
    for name, value, source in rows:
        print(f"{name:<{width}}  {value}" + (f"  [{source}]" if source else ""))
    return status
