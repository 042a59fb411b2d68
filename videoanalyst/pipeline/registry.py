"""Which class a YAML `type:` names. The key is the module's file name: `type: mot_txt` lives in `sinks/mot_txt.py`.

A `type` may also be a dotted path `package.module:ClassName`, so users run their own stages without registering them.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Literal

Role = Literal["source", "stage", "sink"]

REGISTRY: dict[Role, dict[str, str]] = {
    "source": {
        "video": "videoanalyst.sources.video:VideoSource",
        "synthetic": "videoanalyst.sources.synthetic:SyntheticSource",
        "got10k": "videoanalyst.sources.got10k:Got10kSource",
        "vot": "videoanalyst.sources.vot:VotSource",
        "mot17": "videoanalyst.sources.mot17:Mot17Source",
        "image_folder": "videoanalyst.sources.image_folder:ImageFolderSource",
    },
    "stage": {
        "oracle_detector": "videoanalyst.detectors.oracle_detector:OracleDetector",
        "faster_rcnn": "videoanalyst.detectors.faster_rcnn:FasterRcnn",
        "public_detections": "videoanalyst.detectors.public_detections:PublicDetections",
        "siamfcpp": "videoanalyst.trackers.siamfcpp:SiamFCpp",
        "sort": "videoanalyst.association.sort:Sort",
        "oc_sort": "videoanalyst.association.oc_sort:OcSort",
        "deep_sort": "videoanalyst.association.deep_sort:DeepSort",
        "reid": "videoanalyst.embedders.reid:Reid",
        "tracktor": "videoanalyst.association.tracktor:Tracktor",
        "byte_track": "videoanalyst.association.byte_track:ByteTrack",
    },
    "sink": {
        "annotated_video": "videoanalyst.sinks.annotated_video:AnnotatedVideoSink",
        "mot_txt": "videoanalyst.sinks.mot_txt:MotTxtSink",
        "got10k_txt": "videoanalyst.sinks.got10k_txt:Got10kTxtSink",
        "json_lines": "videoanalyst.sinks.json_lines:JsonLinesSink",
        "target_txt": "videoanalyst.sinks.target_txt:TargetTxtSink",
    },
}


#: The folder holding the `videoanalyst` package, where the registered modules' files are.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


class UnknownTypeError(LookupError):
    """`type` names nothing registered for the role and is no importable `module:Class` path."""


def resolve(role: Role, name: str) -> type:
    """The class registered for `name` in `role`, or the class a `module:Class` path names."""
    target = REGISTRY[role].get(name)
    if target is None and ":" not in name:
        raise UnknownTypeError(f"unknown {role} type {name!r}; known: {', '.join(sorted(REGISTRY[role]))}")
    module_name, _, class_name = (target or name).partition(":")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise UnknownTypeError(f"{role} type {name!r}: cannot import {module_name}:{class_name} ({error})") from None


def descriptions(role: Role) -> dict[str, str]:
    """{type: the first paragraph of its class's docstring} for every registered type of `role`, for `--list`; read from
    the source files, without importing them (and torch with them)."""
    return {name: _docstring_line(REGISTRY[role][name]) for name in sorted(REGISTRY[role])}


def _docstring_line(target: str) -> str:
    module_name, _, class_name = target.partition(":")
    path = _SOURCE_ROOT / f"{module_name.replace('.', '/')}.py"
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return " ".join((ast.get_docstring(node) or "").split("\n\n")[0].split())
    return ""
