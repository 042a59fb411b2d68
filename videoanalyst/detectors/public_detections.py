"""Public detections: the boxes a MOTChallenge ``det.txt`` lists for each frame, as a detector stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import Stage, StreamInfo
from videoanalyst.errors import ConfigError, InputError
from videoanalyst.formats.mot17 import read_mot_seqinfo
from videoanalyst.formats.mot_rows import read_mot_file

_LAYOUT = "<sequence folder>/det/det.txt"


class PublicDetections(Stage):
    """Attaches each frame's rows of a ``det.txt`` (``frame, id, x, y, w, h, conf[, x, y, z]``: 7 to 10 columns,
    frames 1-based) as `Detections` (boxes x1, y1, x2, y2; scores from ``conf``); a frame without rows gets empty
    detections (nothing seen). Rows need not be sorted by frame. A row of fewer or more columns (a 6-column file
    without scores) stops the run, naming the file, the line and the count found.

    Args:
        path: the det.txt; ``{stream_id}`` in it is replaced by each stream's id. None: the MOT17 layout,
            ``<sequence folder>/det/det.txt``, the folder being the stream's (as the mot17 source opens it).
        min_score: rows with a lower ``conf`` are dropped. Default: keep every row (MOT17's DPM detections score
            below 0, its FRCNN and SDP ones within 0..1, so no single threshold suits all three). Raising it drops
            weak boxes: fewer false positives, more misses.
        every: attach detections on frames whose index is a multiple of it only; the others get no `detections`
            output, so an associator predicts through them (to study a slower detector).
        class_id: class id given to every box (1: MOT17's pedestrian, also COCO's person).
    """

    def __init__(self, path: str | None = None, min_score: float = -np.inf, every: int = 1, class_id: int = 1) -> None:
        if every < 1:
            raise ConfigError(f"public_detections: every must be >= 1, got {every}")
        self.path = path
        self.min_score = min_score
        self.every = every
        self.class_id = class_id
        self._frames: dict[int, Detections] = {}

    def reset(self, stream: StreamInfo) -> None:
        path = self._file(stream)
        if not path.is_file():
            raise InputError(f"{path}: no such det.txt for stream {stream.stream_id!r}; expected MOTChallenge rows "
                             f"frame,id,x,y,w,h,conf[,x,y,z] at {'`path`' if self.path else _LAYOUT}")
        frames = read_mot_file(path, kind="result")
        length = _sequence_length(stream)
        if frames and length is not None and max(frames) > length:
            raise InputError(f"{path}: frame {max(frames)} is past the {length} frames of stream "
                             f"{stream.stream_id!r}; is it the det.txt of another sequence?")
        self._frames = {frame: self._kept(detections, path, frame) for frame, detections in frames.items()}

    def process(self, packet: FramePacket) -> None:
        if packet.frame_index % self.every == 0:
            packet.outputs[DETECTIONS] = self._frames.get(packet.frame_index + 1, Detections.empty())

    def _kept(self, detections: Detections, path: Path, frame: int) -> Detections:
        """The rows of one frame scoring at least `min_score`, with our class id."""
        if np.isnan(detections.scores).any():
            raise InputError(f"{path}: frame {frame} has a row whose conf (7th column) is NaN")
        kept = detections[detections.scores >= self.min_score]
        return kept.replace(class_ids=np.full(len(kept), self.class_id))

    def _file(self, stream: StreamInfo) -> Path:
        if self.path is not None:
            return Path(self.path.replace("{stream_id}", stream.stream_id)).expanduser()
        if stream.path is None:
            raise ConfigError(f"public_detections: stream {stream.stream_id!r} comes from no folder, so there is no "
                              f"{_LAYOUT}; set `path` to its det.txt")
        return Path(stream.path) / "det" / "det.txt"


def _sequence_length(stream: StreamInfo) -> int | None:
    """Frames of the whole sequence: ``seqLength`` of its seqinfo.ini when it has one (a frame range leaves the
    sequence's frame numbers as they are), else the frames the stream delivers, None when unknown."""
    seqinfo = Path(stream.path) / "seqinfo.ini" if stream.path else None
    if seqinfo is not None and seqinfo.is_file():
        return read_mot_seqinfo(seqinfo).seq_length
    return stream.num_frames
