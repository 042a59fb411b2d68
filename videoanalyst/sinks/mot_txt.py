"""Write each stream's detections as a MOTChallenge result file ``<output_dir>/<stream_id>.txt``."""

from __future__ import annotations

from pathlib import Path

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.formats.mot_rows import detections_to_mot_rows, format_mot_rows
from videoanalyst.sinks.text_file import TextFileSink


class MotTxtSink(TextFileSink):
    """MOTChallenge rows ``frame,id,x,y,w,h,score,-1,-1,-1`` (frames 1-based), the format TrackEval and motmetrics read.

    Args:
        output_dir: the run's output folder.
        key: which `Detections` output to write.
        tracked_only: write only boxes with a track id (>= 0); False writes every box (det.txt style, id -1).
    """

    def __init__(self, output_dir: str, key: str = DETECTIONS, tracked_only: bool = True) -> None:
        super().__init__(output_dir)
        self.key = key
        self.tracked_only = tracked_only

    def file_path(self, stream: StreamInfo) -> Path:
        return self.output_dir / f"{stream.stream_id}.txt"

    def process(self, packet: FramePacket) -> None:
        detections: Detections = packet.outputs.get(self.key, Detections.empty())
        if self.tracked_only:
            detections = detections[detections.track_ids >= 0]
        self.file.write(format_mot_rows(detections_to_mot_rows(packet.frame_index + 1, detections)))
