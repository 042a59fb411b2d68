"""Run an iterator in a background thread, at most `depth` items ahead of its consumer."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_END = object()


class Prefetcher(Generic[T]):
    """Iterates `items` on a daemon thread into a bounded queue, so decoding overlaps compute.

    Memory stays bounded by `depth` items. An exception raised by `items` is re-raised in the consumer
    at the point where it occurred; `close()` stops the thread early (e.g. when a run is interrupted).
    """

    def __init__(self, items: Iterator[T], depth: int = 8, name: str = "prefetch") -> None:
        if depth < 1:
            raise ValueError(f"prefetch depth must be >= 1, got {depth}")
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, name=name, daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            self._put(error)
            return
        self._put(_END)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._stop.is_set():
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._stop.set()
            raise StopIteration
        if isinstance(item, BaseException):
            self._stop.set()
            raise item
        return item

    def close(self) -> None:
        """Stop the background thread and drop what it had queued."""
        self._stop.set()
        self._thread.join(timeout=5)
        close = getattr(self._items, "close", None)
        if close is not None and not self._thread.is_alive():
            close()
