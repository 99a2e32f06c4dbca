"""Offline means no network at all: with an LLM, a key and embeddings all configured, --offline (or
NNT_OFFLINE=1, or the config file) opens no socket, not even to loopback, and still answers."""
from __future__ import annotations

import io
import socket

import pytest

from nn_tutor.agent.cli import main

LOOPBACK_LLM = "http://127.0.0.1:9/v1"  # never contacted: any attempt is recorded and refused


@pytest.fixture
def no_sockets(monkeypatch):
    """Every connection and name lookup is recorded and refused, loopback included."""
    attempts: list = []

    def refuse(kind):
        def blocked(*args, **kwargs):
            attempts.append((kind, args[1:] if kind == "connect" else args[:2]))
            raise OSError(f"offline test: {kind} attempted")
        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    return attempts


@pytest.fixture
def everything_configured(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", LOOPBACK_LLM)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-offline-test")
    monkeypatch.setenv("NNT_EMBEDDING_MODEL", "text-embedding-3-small")
    monkeypatch.setenv("NNT_EMBEDDING_MIN_COSINE", "0.5")


def _fresh_knowledge_base():
    from nn_tutor.tools.knowledge import knowledge_base

    knowledge_base.cache_clear()  # an index built by an earlier test must not hide an embedding call


@pytest.mark.parametrize("how", ["flag", "env", "config"])
def test_ask_offline_opens_no_socket_and_still_cites_cards(how, no_sockets, everything_configured, capsys,
                                                          monkeypatch, tmp_path):
    _fresh_knowledge_base()
    argv = ["ask", "what is RAG and why does it reduce hallucination?"]
    if how == "flag":
        argv.insert(1, "--offline")
    elif how == "env":
        monkeypatch.setenv("NNT_OFFLINE", "1")
    else:
        config = tmp_path / "config.toml"
        config.write_text("offline = true\n")
        monkeypatch.setenv("NNT_CONFIG", str(config))
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "[rag]" in out.out and "LLM unavailable" not in out.err
    assert no_sockets == []


def test_without_offline_the_same_settings_do_try_the_network(no_sockets, everything_configured, capsys):
    """The guard above is not vacuous: without --offline the configured endpoints are called."""
    _fresh_knowledge_base()
    assert main(["ask", "what is RAG?"]) == 0
    assert no_sockets and "LLM unavailable" in capsys.readouterr().err


def test_offline_chat_walk_check_and_python_api_open_no_socket(no_sockets, everything_configured, monkeypatch,
                                                             capsys):
    import nn_tutor as nnt

    _fresh_knowledge_base()
    monkeypatch.setattr("sys.stdin", io.StringIO("what is backpropagation?\n/load examples/r2_two_layer_sigmoid.yaml\n"
                                                "/hint\n/quit\n"))
    assert main(["chat", "--offline"]) == 0
    assert main(["walk", "examples/r2_two_layer_sigmoid.yaml"]) == 0
    assert main(["check", "examples/homework/r2_wrong.md", "--spec", "examples/r2_two_layer_sigmoid.yaml"]) == 1
    answer = nnt.ask("what is a transformer?", offline=True)
    out = capsys.readouterr().out
    assert "[backpropagation]" in out and "0.15×0.5 + 0.2×0.8 + 0.35 = 0.585" in out
    assert answer.citations and not answer.notices
    assert no_sockets == []
