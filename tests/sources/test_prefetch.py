import threading
import time

import pytest

from videoanalyst.sources.prefetch import Prefetcher


def test_items_arrive_in_order_and_the_queue_stays_bounded():
    produced = []

    def items():
        for i in range(50):
            produced.append(i)
            yield i

    prefetcher = Prefetcher(items(), depth=4)
    time.sleep(0.2)  # let the thread run ahead as far as it may
    assert len(produced) <= 4 + 1  # the queue, plus the item waiting to be put
    assert list(prefetcher) == list(range(50))


def test_an_error_is_raised_in_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise OSError("frame 2 is corrupt")

    prefetcher = Prefetcher(items(), depth=2)
    assert next(prefetcher) == 1 and next(prefetcher) == 2
    with pytest.raises(OSError, match="frame 2 is corrupt"):
        next(prefetcher)
    with pytest.raises(StopIteration):
        next(prefetcher)


def test_close_stops_the_thread_and_closes_the_iterator():
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield 0
        finally:
            closed.set()

    prefetcher = Prefetcher(endless(), depth=2, name="endless")
    next(prefetcher)
    prefetcher.close()
    assert not any(t.name == "endless" for t in threading.enumerate())
    assert closed.is_set()
    with pytest.raises(StopIteration):
        next(prefetcher)
