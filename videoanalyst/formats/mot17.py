"""MOT17 sequence folders: ``seqinfo.ini`` and ``gt/gt.txt`` (rows ``frame,id,x,y,w,h,consider,class,visibility``,
frames 1-based, boxes as left, top, width, height in pixels)."""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videoanalyst.core.detections import Detections
from videoanalyst.errors import InputError
from videoanalyst.formats.mot_rows import mot_rows_to_detections, read_mot_file


@dataclass(frozen=True)
class MotSeqInfo:
    """The ``[Sequence]`` section of ``seqinfo.ini``."""

    name: str
    im_dir: str
    frame_rate: float
    seq_length: int
    im_width: int
    im_height: int
    im_ext: str


#: seqinfo.ini keys by `MotSeqInfo` field, with the type each value must parse as.
_SEQINFO_KEYS = {"name": ("name", str), "im_dir": ("imDir", str), "frame_rate": ("frameRate", float),
                 "seq_length": ("seqLength", int), "im_width": ("imWidth", int), "im_height": ("imHeight", int),
                 "im_ext": ("imExt", str)}


def read_mot_seqinfo(path: Path) -> MotSeqInfo:
    """``seqinfo.ini`` of a MOT sequence.

    Raises:
        InputError: naming the file and the key for a missing file, section or key, or a value of the wrong type.
    """
    parser = configparser.ConfigParser()
    try:
        if not parser.read(path):
            raise InputError(f"{path}: no such file")
    except configparser.Error as error:
        raise InputError(f"{path}: not an ini file: {error}") from None
    if not parser.has_section("Sequence"):
        raise InputError(f"{path}: missing section [Sequence]")
    section = parser["Sequence"]
    values = {}
    for field, (key, kind) in _SEQINFO_KEYS.items():
        if key not in section:
            raise InputError(f"{path}: [Sequence] has no key {key!r}")
        try:
            values[field] = kind(section[key])
        except ValueError:
            raise InputError(f"{path}: [Sequence] {key}: expected {kind.__name__}, got {section[key]!r}") from None
    return MotSeqInfo(**values)


def format_mot_seqinfo(info: MotSeqInfo) -> str:
    """``seqinfo.ini`` text."""
    lines = [f"{key}={getattr(info, field):g}" if isinstance(getattr(info, field), float) else
             f"{key}={getattr(info, field)}" for field, (key, _) in _SEQINFO_KEYS.items()]
    return "[Sequence]\n" + "\n".join(lines) + "\n"


def read_mot17_groundtruth(path: Path, num_frames: int) -> list[Detections]:
    """``gt.txt`` as one `Detections` a frame (index 0 = frame 1), empty where a frame has no rows.

    Each has track_ids (object ids), class_ids and the extra fields ``consider`` (int64) and ``visibility``
    (float32), boxes as x1, y1, x2, y2.

    Raises:
        InputError: naming the file (and line) for a malformed row or a frame number past `num_frames`.
    """
    by_frame = read_mot_file(path, kind="gt")
    beyond = [frame for frame in by_frame if frame > num_frames]
    if beyond:
        raise InputError(f"{path}: frame {beyond[0]} is past the sequence's {num_frames} frames")
    empty = mot_rows_to_detections(np.zeros((0, 9)), kind="gt")
    return [by_frame.get(frame, empty) for frame in range(1, num_frames + 1)]
