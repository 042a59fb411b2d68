"""Write single-object tracking results in the GOT-10k toolkit's layout.

The files are ``<output_dir>/<seq>/<seq>_NNN.txt`` + ``<seq>_time.txt``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videoanalyst.core.packet import TARGET, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.errors import InputError
from videoanalyst.formats.got10k_rows import format_time_rows, target_to_got10k_row
from videoanalyst.sinks.text_file import TextFileSink


class Got10kTxtSink(TextFileSink):
    """One ``x,y,w,h`` row a frame (the first is the init box) and the per-frame tracking time.

    Point `output_dir` at ``results/<TrackerName>``, as the toolkit lays results out. The time of a frame is the
    sum of the processing stages' times on it (decoding excluded, as the toolkit excludes image loading).

    Args:
        output_dir: the tracker's result folder.
        key: which `TargetState` output to write.
        repetition: run number (1-based) for ``<seq>_NNN.txt``; its times become column `repetition` of the
            time file, as the toolkit records repeated runs.
    """

    def __init__(self, output_dir: str, key: str = TARGET, repetition: int = 1) -> None:
        if repetition < 1:
            raise ValueError(f"repetition must be >= 1, got {repetition}")
        super().__init__(output_dir)
        self.key = key
        self.repetition = repetition
        self._times: list[float] = []
        self._time_file: Path | None = None

    def file_path(self, stream: StreamInfo) -> Path:
        return self.output_dir / stream.stream_id / f"{stream.stream_id}_{self.repetition:03d}.txt"

    def reset(self, stream: StreamInfo) -> None:
        super().reset(stream)
        self._time_file = self.output_dir / stream.stream_id / f"{stream.stream_id}_time.txt"
        self._times = []

    def process(self, packet: FramePacket) -> None:
        target = packet.outputs.get(self.key)
        if target is None:
            raise InputError(f"got10k_txt: frame {packet.frame_index} of {packet.stream_id!r} has no {self.key!r} "
                             f"output; put a single-object tracker stage before this sink")
        self.file.write(target_to_got10k_row(target))
        self._times.append(sum(packet.stage_seconds.values()))

    def close(self) -> None:
        """Close the result file and write the time file, keeping the earlier repetitions' columns."""
        if self.file is None:
            return
        super().close()
        times = np.asarray(self._times)[:, None]
        if self.repetition > 1 and self._time_file.is_file():
            earlier = np.loadtxt(self._time_file, delimiter=",", ndmin=2)[:, : self.repetition - 1]
            rows = max(len(earlier), len(times))  # runs of other lengths are padded with NaN, never dropped;
            times = np.concatenate([_pad_rows(earlier, rows), _pad_rows(times, rows)], axis=1)  # the toolkit skips NaN
        self._time_file.write_text(format_time_rows(times))


def _pad_rows(columns: np.ndarray, rows: int) -> np.ndarray:
    return np.pad(columns, ((0, rows - len(columns)), (0, 0)), constant_values=np.nan)
