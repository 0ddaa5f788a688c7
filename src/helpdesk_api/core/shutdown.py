"""Tells long-lived responses that the server was asked to stop.

uvicorn first waits for open connections to finish (up to its graceful timeout) and only then
runs the lifespan's shutdown, so a flag set there comes too late for a Server-Sent Events
stream: the stream would hold the whole drain until the timeout. uvicorn's own signal handler
only flips a flag of its server object, which the application cannot see; so we chain onto
the handler it installed, in each serving process.
"""

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType

_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def on_shutdown_signal(callback: Callable[[], None]) -> Callable[[], None]:
    """Run ``callback`` on the running loop when SIGTERM or SIGINT arrives, then let the
    handler that was there (uvicorn's) do its part. Returns the function that undoes this."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may set signal handlers
    loop = asyncio.get_running_loop()
    installed: dict[int, tuple[Callable[[int, FrameType | None], None], object]] = {}
    for sig in _SIGNALS:
        previous = signal.getsignal(sig)
        if not callable(previous):
            # SIG_DFL or SIG_IGN: nobody serves this process gracefully; leave it be.
            continue

        def chained(
            signum: int,
            frame: FrameType | None,
            previous: Callable[[int, FrameType | None], object] = previous,
        ) -> None:
            # A signal handler interrupts the loop between any two bytecodes: only schedule.
            if not loop.is_closed():
                loop.call_soon_threadsafe(callback)
            previous(signum, frame)

        signal.signal(sig, chained)
        installed[sig] = (chained, previous)

    def undo() -> None:
        for sig, (chained, previous) in installed.items():
            if signal.getsignal(sig) is chained:
                signal.signal(sig, previous)  # type: ignore[arg-type]

    return undo
