"""The types every stage speaks: detections, single-target states, frame packets, streams and the stage contract."""

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, TARGET, FramePacket
from videoanalyst.core.stage import Sink, Source, Stage, Stream, StreamInfo
from videoanalyst.core.target_state import TargetState

__all__ = [
    "DETECTIONS",
    "GROUND_TRUTH",
    "TARGET",
    "Detections",
    "FramePacket",
    "Sink",
    "Source",
    "Stage",
    "Stream",
    "StreamInfo",
    "TargetState",
]
