"""A local stand-in for Telegram's Bot API, speaking its request and response shapes as its
documentation gives them (https://core.telegram.org/bots/api#making-requests): requests to
``/bot<token>/<method>`` with a JSON body; answers ``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": …, "description": …, "parameters": {"retry_after": …}}``."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOO_MANY = (429, {"ok": False, "error_code": 429,
                  "description": "Too Many Requests: retry after 1",
                  "parameters": {"retry_after": 1}})  # fmt: skip
BLOCKED = (403, {"ok": False, "error_code": 403,
                 "description": "Forbidden: bot was blocked by the user"})  # fmt: skip
BAD_GATEWAY = (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})


@dataclass
class BotApi:
    token: str
    url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Failures to answer first, in order; then success.
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_message_id: int = 100

    def answer(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls.append((method, body))
            if self.failures:
                return self.failures.pop(0)
            if method != "sendMessage":
                return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            if not isinstance(body.get("text"), str) or not 1 <= len(body["text"]) <= 4096:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty or too long",
                }
            self.next_message_id += 1
            message = {
                "message_id": self.next_message_id,
                "from": {"id": 1, "is_bot": True, "first_name": "Helpdesk", "username": "hd_bot"},
                "chat": {"id": int(body["chat_id"]), "type": "private"},
                "date": int(time.time()),
                "text": body["text"],
            }
            return 200, {"ok": True, "result": message}


@contextmanager
def bot_api(token: str) -> Iterator[BotApi]:
    state = BotApi(token)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            prefix = f"/bot{state.token}/"
            if not self.path.startswith(prefix):
                status, answer = (
                    401,
                    {"ok": False, "error_code": 401, "description": "Unauthorized"},
                )
            else:
                status, answer = state.answer(self.path.removeprefix(prefix), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
