"""Test-wide guards: no network except loopback, so tests never reach a real LLM or the internet."""
from __future__ import annotations

import ipaddress
import socket

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self, address):
    if not _is_loopback(address):
        raise OSError(f"network blocked in tests: connection to {address!r} refused (loopback only)")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_loopback(address):
        raise OSError(f"network blocked in tests: connection to {address!r} refused (loopback only)")
    return _real_connect_ex(self, address)


def pytest_configure(config):
    config.addinivalue_line("markers", "live: talks to the real LLM endpoint configured in the environment "
                                       "(runs only when OPENAI_API_KEY is set)")


@pytest.fixture(autouse=True)
def _block_network(request):
    """Sockets may connect to loopback only (the scripted LLM server); everything else fails fast.

    Tests marked `live` are the exception: they run only with a key and talk to the real endpoint.
    """
    if request.node.get_closest_marker("live"):
        yield
        return
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    yield
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex


@pytest.fixture(autouse=True)
def _no_llm_env(request, monkeypatch, tmp_path):
    """Tests start offline and with a private data dir unless they configure an LLM themselves."""
    monkeypatch.setenv("NNT_DATA_DIR", str(tmp_path / "nnt-data"))
    if request.node.get_closest_marker("live"):
        return
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "NNT_MODEL", "NNT_EMBEDDING_MODEL", "NNT_OFFLINE",
                "NNT_CONTEXT_TOKENS"):
        monkeypatch.delenv(var, raising=False)
