"""videoanalyst: video analytics from composable frame-stream stages."""

from videoanalyst.core import Detections, FramePacket, Stage, StreamInfo, TargetState
from videoanalyst.pipeline.build import run_pipeline
from videoanalyst.pipeline.runner import Pipeline

__version__ = "0.1.0"

__all__ = ["Detections", "FramePacket", "Pipeline", "Stage", "StreamInfo", "TargetState", "run_pipeline",
           "__version__"]
