"""A small OpenAI-compatible server for the LLM coder's tests: real HTTP on a loopback port.

It answers ``POST /v1/chat/completions`` like a chat model asked for the coder's JSON: for each
segment of the user message, every code whose keyword (``keywords``: code id -> word) occurs in the
text, quoting the sentence holding the word. ``behaviour`` changes what it does (for the next
``times`` requests, then it answers normally again):

- ``"ok"``: correct answers;
- ``"malformed"``: a message that is not JSON;
- ``"invented"``: correct codes with quotes found nowhere in the text;
- ``"slow"``: no reply until :meth:`FakeLLMServer.release` is called (or 60 s);
- ``"error"``: HTTP 500;
- ``"html"``: HTTP 200 with an HTML page, not a chat completion;
- ``"no_schema"``: HTTP 400 naming ``response_format`` whenever a request carries one.

Every request body is kept in ``requests`` (the segments asked about in ``asked``).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SENTENCE = re.compile(r"[^.!?]+[.!?]?")
# For the themed test documents (tests/builders/themes.py): a word of each theme's sentences.
THEME_KEYWORDS = {"waiting": "assessment", "staff": "carer", "money": "charges", "isolation": "lonely"}


class FakeLLMServer:
    def __init__(self, keywords: dict[str, str]):
        self.keywords = keywords
        self.behaviour = "ok"
        self.times = 0  # requests left with ``behaviour``; 0 means every request
        self.requests: list[dict[str, Any]] = []
        self.asked: list[str] = []
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # a reply written after the client gave up (a slow reply) fails: that is expected here
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def behave(self, behaviour: str, times: int = 0) -> None:
        with self._lock:
            self.behaviour, self.times = behaviour, times
            self._released.clear()

    def release(self) -> None:
        self._released.set()

    def _next_behaviour(self) -> str:
        with self._lock:
            behaviour = self.behaviour
            if self.times:
                self.times -= 1
                if not self.times:
                    self.behaviour = "ok"
            return behaviour

    # ------------------------------------------------------------------------------ answering

    def answer(self, body: dict[str, Any], invent: bool = False) -> str:
        segments = json.loads(body["messages"][-1]["content"])["segments"]
        found = []
        for segment in segments:
            codes = []
            for code, word in self.keywords.items():
                if word in segment["text"].lower():
                    sentence = next(s for s in SENTENCE.findall(segment["text"]) if word in s.lower())
                    quote = "a passage that is not in the segment" if invent else sentence.strip()
                    codes.append(
                        {"code": code, "quote": quote, "reason": f"It mentions {word}.", "confidence": 0.9}
                    )
            found.append({"id": segment["id"], "codes": codes})
        return json.dumps({"segments": found})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                if self.path != "/v1/chat/completions":
                    self._send(404, b'{"error": "not found"}')
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.requests.append(body)
                    fake.asked.extend(
                        s["text"] for s in json.loads(body["messages"][-1]["content"])["segments"]
                    )
                behaviour = fake._next_behaviour()
                if behaviour == "no_schema" and "response_format" in body:
                    fake.behave("no_schema")  # keeps refusing it
                    self._send(400, b'{"error": "response_format is not supported"}')
                    return
                if behaviour == "slow":
                    fake._released.wait(60)
                if behaviour == "error":
                    self._send(500, b'{"error": "model crashed"}')
                    return
                if behaviour == "html":
                    self._send(200, b"<html><body>Bad gateway</body></html>", "text/html")
                    return
                content = (
                    "Sure! Here are the codes: {segments: [oops"
                    if behaviour == "malformed"
                    else fake.answer(body, invent=behaviour == "invented")
                )
                reply = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                }
                self._send(200, json.dumps(reply).encode("utf-8"))

        return Handler
