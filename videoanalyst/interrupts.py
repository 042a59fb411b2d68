"""SIGTERM handled as Ctrl-C: `timeout`, `kill`, systemd and container runtimes stop a run the way a user does.

Python turns SIGINT into `KeyboardInterrupt` but lets SIGTERM end the process at once, so the `finally` blocks that
close the sinks (and with them the video and result files) never run. `terminate_as_interrupt` raises `Terminated`,
a `KeyboardInterrupt`, instead: the same clean-up runs, and the command line exits with 143 (128 + SIGTERM) where
Ctrl-C gives 130.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_STATUS = 130
#: Exit status after SIGTERM (128 + SIGTERM).
TERMINATED_STATUS = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; handled wherever Ctrl-C is."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"signal {signum}")


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` in the main thread; the previous handler comes back after.

    Outside the main thread (where Python cannot install handlers) the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupt_status(interrupt: KeyboardInterrupt) -> int:
    """The exit status for an interrupted run: 143 after SIGTERM, 130 after Ctrl-C."""
    return TERMINATED_STATUS if isinstance(interrupt, Terminated) else INTERRUPTED_STATUS
