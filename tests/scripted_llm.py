"""A scripted OpenAI-compatible server on loopback: ChatOpenAI, the graph and the tools run for real.

Replies are queued (`text(...)`, `tool_calls(...)`, `delay(...)`, or a callable of the request); each
POST /v1/chat/completions takes the next one and answers as JSON or, when the request asks for
`stream`, as server-sent events (content in word pieces, tool-call arguments in fragments, a usage
chunk last). Every request is recorded, with a rough token count (characters / 4), so tests and
benchmarks can count LLM calls and tokens.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted answer: text, tool calls (arguments as dict, or a str sent verbatim), or a delay."""

    content: str = ""
    calls: list[tuple[str, object]] = field(default_factory=list)
    delay_s: float = 0.0


def text(content: str) -> Reply:
    return Reply(content=content)


def tool_calls(*calls: tuple[str, object]) -> Reply:
    """Tool calls as (name, arguments); a str argument is sent as is (e.g. malformed JSON)."""
    return Reply(calls=list(calls))


def delay(seconds: float, then: Reply | None = None) -> Reply:
    """Wait before answering (longer than the client's timeout to provoke one)."""
    reply = then or text("late")
    return Reply(reply.content, reply.calls, seconds)


def rough_tokens(obj) -> int:
    """A rough token count: characters / 4 of the JSON text (what the benchmark reports)."""
    return max(1, len(json.dumps(obj, ensure_ascii=False)) // 4)


class ScriptedLLM:
    """The server. Use as a context manager; `url` is the base URL to give ChatOpenAI."""

    def __init__(self, replies=(), responder=None):
        self.replies: deque = deque(replies)
        self.responder = responder  # callable(request) -> Reply, used when the queue is empty
        self.requests: list[dict] = []
        self.usage: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def add(self, *replies) -> None:
        self.replies.extend(replies)

    def __enter__(self) -> "ScriptedLLM":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, request: dict):
        if self.replies:
            item = self.replies.popleft()
            return item(request) if callable(item) else item
        if self.responder is not None:
            return self.responder(request)
        return None

    def _handler(self):
        llm = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "not found"}})
                    return
                llm.requests.append(request)
                reply = llm._next(request)
                if reply is None:
                    self._json(500, {"error": {"message": "the script has no reply left"}})
                    return
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                usage = {"prompt_tokens": rough_tokens(request.get("messages")),
                         "completion_tokens": rough_tokens([reply.content, reply.calls])}
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                llm.usage.append(usage)
                try:
                    if request.get("stream"):
                        self._stream(request, reply, usage)
                    else:
                        self._json(200, _completion(request, reply, usage))
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def _json(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, request: dict, reply: Reply, usage: dict):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(request, reply, usage):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _arguments(args) -> str:
    return args if isinstance(args, str) else json.dumps(args)


def _completion(request: dict, reply: Reply, usage: dict) -> dict:
    message: dict = {"role": "assistant", "content": reply.content or None}
    if reply.calls:
        message["tool_calls"] = [{"id": f"call_{i}", "type": "function",
                                  "function": {"name": name, "arguments": _arguments(args)}}
                                 for i, (name, args) in enumerate(reply.calls)]
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
            "model": request.get("model", "scripted"),
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if reply.calls else "stop"}],
            "usage": usage}


def _chunks(request: dict, reply: Reply, usage: dict):
    base = {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": request.get("model", "scripted")}

    def chunk(delta, finish=None):
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    words = reply.content.split(" ") if reply.content else []
    for i, word in enumerate(words):
        yield chunk({"content": word if i == 0 else " " + word})
    for i, (name, args) in enumerate(reply.calls):
        arguments = _arguments(args)
        half = len(arguments) // 2
        yield chunk({"tool_calls": [{"index": i, "id": f"call_{i}", "type": "function",
                                     "function": {"name": name, "arguments": arguments[:half]}}]})
        yield chunk({"tool_calls": [{"index": i, "function": {"arguments": arguments[half:]}}]})
    yield chunk({}, "tool_calls" if reply.calls else "stop")
    if (request.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": usage}
