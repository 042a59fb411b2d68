"""Shared test helpers: a tiny in-memory source whose frames encode their own stream and index."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from videoanalyst.core import FramePacket, Source, Stream, StreamInfo


class CountingSource(Source):
    """Streams of flat-coloured frames; pixel (0, 0) holds the frame index mod 256, (0, 1) the stream number."""

    def __init__(self, lengths: dict[str, int], size: tuple[int, int] = (32, 24), fps: float = 25.0) -> None:
        self.lengths = lengths
        self.size = size
        self.fps = fps
        self.opened: list[str] = []
        self.closed: list[str] = []

    def streams(self) -> Iterator[Stream]:
        for number, (stream_id, length) in enumerate(self.lengths.items()):
            self.opened.append(stream_id)
            width, height = self.size
            info = StreamInfo(stream_id, width, height, fps=self.fps, num_frames=length)
            yield Stream(info, self._packets(stream_id, number, length), close=lambda s=stream_id: self.closed.append(s))

    def _packets(self, stream_id: str, number: int, length: int) -> Iterator[FramePacket]:
        width, height = self.size
        for index in range(length):
            image = np.zeros((height, width, 3), np.uint8)
            image[0, 0] = index % 256
            image[0, 1] = number
            yield FramePacket(stream_id, index, index / self.fps, image)


@pytest.fixture
def counting_source():
    return CountingSource
