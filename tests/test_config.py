"""Settings precedence (explicit > environment > default), offline by default, the key never shown."""
from __future__ import annotations

import pytest

from nn_tutor.agent.config import DEFAULT_MODEL, load_settings
from nn_tutor.engine.errors import NNTError

SECRET = "sk-test-do-not-print-0123456789"


def test_fresh_machine_is_offline_with_defaults():
    s = load_settings()
    assert not s.llm_enabled
    assert s.model == DEFAULT_MODEL and s.base_url is None and s.api_key is None
    assert s.sources["model"] == "default"


def test_environment_beats_default(monkeypatch):
    monkeypatch.setenv("NNT_MODEL", "llama3.2")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    s = load_settings()
    assert (s.model, s.base_url) == ("llama3.2", "http://127.0.0.1:11434/v1")
    assert s.llm_enabled  # a local server needs no key
    assert s.key_for_client == "not-needed"
    assert s.sources["model"] == "env NNT_MODEL"


def test_explicit_option_beats_environment(monkeypatch):
    monkeypatch.setenv("NNT_MODEL", "from-env")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("NNT_TIMEOUT", "9")
    s = load_settings(model="from-option", api_key="option-key", timeout_s=2.5)
    assert s.model == "from-option" and s.api_key == "option-key" and s.timeout_s == 2.5
    assert s.sources["model"] == "option" and s.sources["timeout_s"] == "option"


def test_empty_environment_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("NNT_MODEL", "  ")
    monkeypatch.setenv("OPENAI_API_KEY", "")
    s = load_settings()
    assert s.model == DEFAULT_MODEL and not s.llm_enabled


def test_offline_forced_by_option_or_env(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert load_settings().llm_enabled
    assert not load_settings(offline=True).llm_enabled
    monkeypatch.setenv("NNT_OFFLINE", "1")
    assert not load_settings().llm_enabled


def test_key_is_never_printed(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    s = load_settings()
    assert s.api_key == SECRET
    shown = repr(s) + str(s) + repr(s.describe())
    assert SECRET not in shown and "set (hidden)" in shown


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("NNT_DATA_DIR", str(tmp_path / "d"))
    assert load_settings().data_dir == tmp_path / "d"
    assert load_settings(data_dir=tmp_path / "e").data_dir == tmp_path / "e"


def test_bad_numbers_name_the_variable(monkeypatch):
    monkeypatch.setenv("NNT_TIMEOUT", "soon")
    with pytest.raises(NNTError, match="NNT_TIMEOUT must be a number"):
        load_settings()
    monkeypatch.setenv("NNT_TIMEOUT", "5")
    monkeypatch.setenv("NNT_MAX_RETRIES", "-1")
    with pytest.raises(NNTError, match="NNT_MAX_RETRIES must be at least 0"):
        load_settings()


def test_doctor_never_prints_the_key(monkeypatch, capsys):
    from nn_tutor.agent.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on port 9
    code = main(["doctor", "--timeout", "0.5"])
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert code == 1 and "FAILED" in out.out and "set (hidden)" in out.out


def test_doctor_probes_a_live_endpoint(monkeypatch, capsys):
    from scripted_llm import ScriptedLLM

    from nn_tutor.agent.cli import main

    with ScriptedLLM() as llm:
        monkeypatch.setenv("OPENAI_BASE_URL", llm.url)
        assert main(["doctor", "--model", "scripted"]) == 0
    out = capsys.readouterr().out
    assert f"ok: {llm.url} answered (model listed)" in out and "model             scripted  [option]" in out


# the config file (XDG config dir; conftest points XDG_CONFIG_HOME at an empty folder) -----------------

def _config(tmp_path, monkeypatch, text: str):
    folder = tmp_path / "xdg" / "nn-tutor"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return folder / "config.toml"


def test_precedence_option_over_environment_over_config_file_over_default(tmp_path, monkeypatch):
    path = _config(tmp_path, monkeypatch, 'model = "from-file"\nbase_url = "http://127.0.0.1:1/v1"\n'
                                          'timeout = 12\nmax_retries = 4\n')
    monkeypatch.setenv("NNT_TIMEOUT", "7")
    s = load_settings(max_retries=0)
    assert (s.model, s.base_url, s.timeout_s, s.max_retries) == ("from-file", "http://127.0.0.1:1/v1", 7.0, 0)
    assert s.sources["model"] == f"config {path}" and s.sources["timeout_s"] == "env NNT_TIMEOUT"
    assert s.sources["max_retries"] == "option" and s.sources["context_tokens"] == "default"
    assert s.llm_enabled  # the file's base URL turns the LLM on
    monkeypatch.setenv("NNT_OFFLINE", "yes")
    assert not load_settings().llm_enabled


def test_nnt_config_names_another_file_and_doctor_shows_it(tmp_path, monkeypatch, capsys):
    from nn_tutor.agent.cli import main

    other = tmp_path / "team.toml"
    other.write_text('model = "team-model"\noffline = true\n')
    monkeypatch.setenv("NNT_CONFIG", str(other))
    assert load_settings().model == "team-model"
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"team-model  [config {other}]" in out and f"config file       {other}" in out


@pytest.mark.parametrize("text, message", [
    ("modle = 'x'\n", r"unknown setting\(s\) modle in .*config.toml; known: model"),
    ("model = \n", "is not valid TOML"),
    ("timeout = 'soon'\n", r"timeout in .*config.toml must be a number, got 'soon'"),
    ("max_retries = -2\n", "max_retries in .*config.toml must be at least 0"),
    ("offline = 'perhaps'\n", "offline in .*config.toml must be true or false"),
])
def test_a_broken_config_file_is_one_line_naming_the_key_and_file(tmp_path, monkeypatch, text, message):
    _config(tmp_path, monkeypatch, text)
    with pytest.raises(NNTError, match=message):
        load_settings()


def test_context_tokens_default_environment_and_bounds(monkeypatch):
    assert load_settings().context_tokens == 4096
    monkeypatch.setenv("NNT_CONTEXT_TOKENS", "8192")
    assert load_settings().context_tokens == 8192
    monkeypatch.setenv("NNT_CONTEXT_TOKENS", "lots")
    with pytest.raises(NNTError, match="NNT_CONTEXT_TOKENS must be a whole number"):
        load_settings()


def test_embedding_settings_follow_the_chat_endpoint(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("NNT_EMBEDDING_MODEL", "nomic-embed-text")
    monkeypatch.setenv("NNT_MAX_RETRIES", "3")
    e = load_settings(timeout_s=4).embeddings
    assert (e.model, e.base_url, e.timeout_s, e.max_retries, e.min_cosine) == \
        ("nomic-embed-text", "http://127.0.0.1:9/v1", 4.0, 3, None)
    assert e.cache_dir == tmp_path / "nnt-data"  # the data dir, whether or not NNT_DATA_DIR is set
    monkeypatch.delenv("NNT_DATA_DIR")
    assert load_settings().embeddings.cache_dir == load_settings().data_dir != tmp_path / "nnt-data"
    assert SECRET not in repr(load_settings(api_key=SECRET).embeddings)


def test_context_tokens_below_a_usable_window_name_the_variable(monkeypatch):
    monkeypatch.setenv("NNT_CONTEXT_TOKENS", "512")
    with pytest.raises(NNTError, match="NNT_CONTEXT_TOKENS must be at least 1024, got '512'"):
        load_settings()
