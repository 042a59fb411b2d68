"""Write a single-object tracker's boxes to one text file a stream: one ``x,y,w,h`` row a frame."""

from __future__ import annotations

from pathlib import Path

from videoanalyst.core.packet import TARGET, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.errors import InputError
from videoanalyst.formats.got10k_rows import target_to_got10k_row
from videoanalyst.sinks.text_file import TextFileSink


class TargetTxtSink(TextFileSink):
    """The GOT-10k / OTB result row format (``%.3f`` comma-separated x, y, w, h; the first row is the init box)
    in a file of your naming, written line by line so a run stopped halfway keeps its rows.

    Args:
        output_dir: the run's output folder.
        file: the file name, relative to `output_dir` or absolute; ``{stream}`` becomes the stream id.
        key: which `TargetState` output to write.
    """

    def __init__(self, output_dir: str, file: str = "{stream}.txt", key: str = TARGET) -> None:
        super().__init__(output_dir)
        self.file_name = file
        self.key = key

    def file_path(self, stream: StreamInfo) -> Path:
        return self.output_dir / self.file_name.format(stream=stream.stream_id)

    def process(self, packet: FramePacket) -> None:
        target = packet.outputs.get(self.key)
        if target is None:
            raise InputError(
                f"target_txt: frame {packet.frame_index} of {packet.stream_id!r} has no {self.key!r} "
                f"output; put a single-object tracker stage (one target) before this sink"
            )
        self.file.write(target_to_got10k_row(target))
