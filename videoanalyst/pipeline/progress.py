"""Feedback on long work: a tqdm bar where stderr is a terminal, else a progress line every few seconds (CI logs,
``nohup``, a pipe), so a 24-minute run is never silent."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


class Progress:
    """Frames done out of a total known up front (or not at all: a live stream).

    On a terminal it draws a tqdm bar; elsewhere it writes ``progress: 1234/5000 frames (24.7 %), 41.2 fps,
    eta 1m31s`` once `interval` seconds have passed since the last line (the first after `interval` seconds, so a
    short run prints none). fps is the mean since the start, eta the frames left at that rate.

    Args:
        total: frames the work will process; None: unknown (no percentage, no eta).
        description: what is being processed (a sequence name), the bar's label and the lines' prefix.
        enabled: False shows nothing.
        interval: seconds between two lines off a terminal; 0 writes one after every update.
        file: where to write; None: sys.stderr as it is when the progress starts.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        total: int | None = None,
        *,
        description: str | None = None,
        enabled: bool = True,
        interval: float = 30.0,
        file: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval < 0:
            raise ValueError(f"progress interval must be >= 0 seconds, got {interval}")
        self.total = total
        self.done = 0
        self.description = description
        self.interval = interval
        self._file = file if file is not None else sys.stderr
        self._clock = clock
        self._started = self._last_line = clock()
        terminal = enabled and _is_terminal(self._file)
        self._lines = enabled and not terminal
        self._bar = (
            tqdm(total=total, desc=description, unit="frame", file=self._file, dynamic_ncols=True, leave=False)
            if terminal
            else None
        )

    def grow_total(self, frames: int) -> None:
        """Add `frames` to the total (for work whose size is learnt as it opens)."""
        self.total = (self.total or 0) + frames
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def update(self, frames: int) -> None:
        """`frames` more are done (0: nothing to show)."""
        if not frames:
            return
        self.done += frames
        if self._bar is not None:
            self._bar.update(frames)
        elif self._lines:
            now = self._clock()
            if now - self._last_line >= self.interval:
                self._last_line = now
                print(self.line(now - self._started), file=self._file, flush=True)

    def line(self, elapsed: float) -> str:
        """The progress line after `elapsed` seconds."""
        fps = self.done / elapsed if elapsed > 0 else 0.0
        where = f"{self.description}: " if self.description else ""
        if not self.total:
            return f"progress: {where}{self.done} frames, {fps:.1f} fps"
        eta = f", eta {format_duration((self.total - self.done) / fps)}" if fps > 0 and self.done < self.total else ""
        return (f"progress: {where}{self.done}/{self.total} frames ({100 * self.done / self.total:.1f} %), "
                f"{fps:.1f} fps{eta}")

    def close(self) -> None:
        """Remove the bar (the lines stay in the log)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def format_duration(seconds: float) -> str:
    """``7s``, ``1m31s``, ``2h05m``: a remaining time, to the second under an hour, to the minute above."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _is_terminal(file: TextIO) -> bool:
    isatty = getattr(file, "isatty", None)
    return bool(isatty and isatty())
