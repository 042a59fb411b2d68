"""videoanalyst: video analytics from composable frame-stream stages.

The names below are imported on first use (a module `__getattr__`), so ``python -m videoanalyst.run --help`` and
the other command lines start without importing torch, OpenCV or PyAV.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videoanalyst.core import Detections, FramePacket, Stage, StreamInfo, TargetState
    from videoanalyst.pipeline.build import run_pipeline
    from videoanalyst.pipeline.runner import Pipeline

__version__ = "0.1.0"

#: Public name -> the module it is imported from on first use.
_LAZY = {
    "Detections": "videoanalyst.core",
    "FramePacket": "videoanalyst.core",
    "Stage": "videoanalyst.core",
    "StreamInfo": "videoanalyst.core",
    "TargetState": "videoanalyst.core",
    "run_pipeline": "videoanalyst.pipeline.build",
    "Pipeline": "videoanalyst.pipeline.runner",
}

__all__ = ["Detections", "FramePacket", "Pipeline", "Stage", "StreamInfo", "TargetState", "run_pipeline",
           "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'videoanalyst' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
