"""A real SMTP server for outbox tests: aiosmtpd on 127.0.0.1 and a random port, in a thread
of the test process. It records every message that reaches DATA and answers 250, or what it
is told to answer for the next messages."""

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

Stage = Literal["rcpt", "data"]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    answer: str
    at: float = field(default_factory=time.monotonic)

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Sink:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self._answers: list[tuple[Stage, str]] = []
        self._hang_seconds = 0.0
        self._changed = threading.Condition()

    # What the next messages are told: at RCPT (the recipient is refused) or after DATA.
    def answer_next(self, *answers: str, at: Stage = "data") -> None:
        with self._changed:
            self._answers.extend((at, answer) for answer in answers)

    def hang_next(self, seconds: float) -> None:
        """The next message is recorded, then its 250 waits this long."""
        self._hang_seconds = seconds

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} messages arrived")
            return list(self.messages)

    def _next_answer(self, stage: Stage) -> str | None:
        with self._changed:
            if self._answers and self._answers[0][0] == stage:
                return self._answers.pop(0)[1]
        return None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        refusal = self._next_answer("rcpt")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = self._next_answer("data") or "250 OK"
        content = envelope.original_content or b""
        with self._changed:
            self.messages.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), content, answer)
            )
            self._changed.notify_all()
        hang, self._hang_seconds = self._hang_seconds, 0.0
        if hang:
            await asyncio.sleep(hang)
        return answer


class _Controller(Controller):
    """Binds port 0 and learns the port before aiosmtpd's start-up check connects to it."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    controller = _Controller(sink, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()
