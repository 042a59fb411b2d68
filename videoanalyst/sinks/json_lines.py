"""Write each stream as JSON lines ``<output_dir>/<stream_id>.jsonl``: one object a frame."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.core.target_state import TargetState
from videoanalyst.formats.json_records import detections_to_records, target_to_record
from videoanalyst.sinks.text_file import TextFileSink


class JsonLinesSink(TextFileSink):
    """``{"stream", "frame", "timestamp", <key>: ...}`` a line, for every `Detections` / `TargetState` output.

    Args:
        output_dir: the run's output folder.
        keys: which outputs to write; None writes every `Detections` and `TargetState` output.
        timings: also write each processing stage's milliseconds on the frame.
    """

    def __init__(self, output_dir: str, keys: list[str] | None = None, timings: bool = False) -> None:
        super().__init__(output_dir)
        self.keys = keys
        self.timings = timings

    def file_path(self, stream: StreamInfo) -> Path:
        return self.output_dir / f"{stream.stream_id}.jsonl"

    def process(self, packet: FramePacket) -> None:
        record: dict[str, Any] = {"stream": packet.stream_id, "frame": packet.frame_index,
                                  "timestamp": round(packet.timestamp, 6)}
        keys = self.keys if self.keys is not None else sorted(packet.outputs)
        for key in keys:
            value = packet.outputs.get(key)
            if isinstance(value, Detections):
                record[key] = detections_to_records(value)
            elif isinstance(value, TargetState):
                record[key] = target_to_record(value)
        if self.timings:
            record["stage_ms"] = {name: round(s * 1e3, 3) for name, s in packet.stage_seconds.items()}
        self.file.write(json.dumps(record) + "\n")
