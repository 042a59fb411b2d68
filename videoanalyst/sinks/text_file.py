"""Base of the sinks that write one text file a stream, line by line."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import TextIO

from videoanalyst.core.stage import Sink, StreamInfo


class TextFileSink(Sink):
    """Opens `file_path(stream)` when a stream starts; line-buffered, so a crash loses at most the line in progress."""

    def __init__(self, output_dir: str) -> None:
        self.output_dir = Path(output_dir)
        self.file: TextIO | None = None

    @abc.abstractmethod
    def file_path(self, stream: StreamInfo) -> Path:
        """Where this stream's file goes."""

    def reset(self, stream: StreamInfo) -> None:
        path = self.file_path(stream)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("w", buffering=1)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
