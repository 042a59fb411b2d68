"""SORT: each track's Kalman-predicted box is matched to this frame's detections by IoU, one assignment a frame.

The algorithm of abewley/sort (commit 2236dff, `sort.py`: `Sort.update`, `associate_detections_to_trackers`,
`iou_batch`, `KalmanBoxTracker`), step for step and with its arithmetic, but with all tracks in arrays: one
batched Kalman step a frame instead of one filterpy object a track (`kalman_xysr`'s block form), and every
track's whole state in one array.
"""

from __future__ import annotations

import numpy as np

from videoanalyst.association import kalman_xysr
from videoanalyst.association.associator import Associator
from videoanalyst.association.matching import solve_assignment
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import FramePacket
from videoanalyst.errors import ConfigError

#: `Sort._tracks` is (7, 4, N) float64, one column a track (the last axis), in the order the original keeps its
#: trackers: rows 0-5 its Kalman filter as `kalman_xysr.to_blocks` lays it out (row 0: cx, cy, area, aspect),
#: row `_COUNTERS` its integers (exact in float64): `_ID`; `_STREAK`, matches in a row (the original's
#: hit_streak); `_MISSES`, frames since the last match (its time_since_update); and `_ROW`, the row in
#: `Sort._detections` of the detection last matched (where misses == 0).
_COUNTERS = 6
_ID, _STREAK, _MISSES, _ROW = range(4)
#: A new track's (7, 4, 1) entry, its measurement, id and detection row still to fill in.
_NEW_TRACK = np.concatenate((kalman_xysr.INITIAL_BLOCKS, np.zeros((1, 4, 1))))
_NO_ROWS = np.zeros(0, np.int64)


class Sort(Associator):
    """SORT (Bewley et al., ICIP 2016) with the original's arguments, defaults, order of operations and output.

    Each detector frame: every track's filter predicts one frame ahead, and tracks whose predicted box is undefined
    (area x aspect not positive: the original's NaN box) are dropped. Detections and predicted boxes are paired by
    IoU: when the pairs above `iou_threshold` are already one to one, those; otherwise the optimal assignment
    (lapjv on -IoU), whose pairs below `iou_threshold` are undone. Matched tracks are corrected with their
    detection; each unmatched detection starts a track (those no pair took first, then those of undone pairs, as
    the original orders them, which fixes the ids). A track is reported when it was matched this frame and has
    been matched `min_hits` frames in a row (any matched track during the stream's first `min_hits` frames), with
    its Kalman posterior box and its detection's score and class id. It is deleted after more than `max_age`
    frames without a match. Ids count from 1 in each stream.

    A frame the detector skipped (`predict`): every filter advances one frame, and the tracks that the last
    detector frame reported are reported again with their predicted boxes and the score and class id of their last
    detection. No miss is counted: a skipped frame neither ages a track towards deletion nor breaks its streak.

    Against the original: boxes come out as float32 (`Detections`), i.e. its float64 boxes rounded (the states
    agree to ~1e-10 px); its `hits` and `age` counters are not kept, since nothing reads them; and a predicted box
    with an infinite side (an aspect of exactly 0) ends its track, where the original keeps the track but drops
    its row from the IoU matrix, so that later columns belong to the wrong tracks.

    Args:
        max_age: frames a track survives without a matched detection. Raising it carries tracks through longer
            occlusions (fewer new ids) but lets lost tracks drift and take other objects' detections.
        min_hits: matches in a row before a track is reported. Raising it suppresses tracks of false detections
            but reports new objects later and withholds a track's output for longer after each miss.
        iou_threshold: least IoU between a predicted box and a detection for them to match. Raising it refuses
            loose matches (fast or erratic objects get new ids); lowering it lets neighbours take each other's
            detections.
    """

    def __init__(self, max_age: int = 1, min_hits: int = 3, iou_threshold: float = 0.3) -> None:
        if max_age < 0 or min_hits < 0 or not 0 <= iou_threshold <= 1:
            raise ConfigError(f"sort: need max_age >= 0, min_hits >= 0 and 0 <= iou_threshold <= 1; got "
                              f"max_age={max_age}, min_hits={min_hits}, iou_threshold={iou_threshold}")
        self.max_age = max_age
        self.min_hits = min_hits
        self.iou_threshold = iou_threshold
        self.start()

    def start(self) -> None:
        self._tracks = np.zeros((7, 4, 0))
        self._detections = Detections.empty()  # of the last detector frame, for the scores and class ids
        self._frame_count = 0  # detector frames seen
        self._next_id = 1

    def update(self, detections: Detections, packet: FramePacket) -> Detections:
        self._frame_count += 1
        self._advance()
        streak, misses = self._tracks[_COUNTERS, _STREAK], self._tracks[_COUNTERS, _MISSES]
        streak[misses > 0] = 0
        misses += 1
        self._detections = detections
        if len(detections):
            self._correct(detections.xyxy.T.astype(np.float64, order="C"))
            result = self._report()
        else:  # nothing seen: every track missed, none is reported
            result = Detections.empty()
        alive = self._tracks[_COUNTERS, _MISSES] <= self.max_age
        if np.count_nonzero(alive) < len(alive):
            self._tracks = self._tracks.compress(alive, 2)
        return result

    def predict(self, packet: FramePacket) -> Detections:
        self._advance()
        return self._report()

    def _advance(self) -> None:
        """Predict every track one frame ahead and drop those whose box is undefined (area x aspect not positive:
        the original's NaN box)."""
        if self._tracks.shape[2] == 0:
            return
        kalman_xysr.predict_blocks(self._tracks[:_COUNTERS])
        mean = self._tracks[0]
        if np.count_nonzero(mean[2:] > 0) < mean[2:].size:
            self._tracks = self._tracks.compress(mean[2] * mean[3] > 0, 2)

    def _correct(self, boxes: np.ndarray) -> None:
        """Match the tracks to this frame's (4, M) detection boxes, correct the matched and start the others."""
        measurements = _measurements(boxes)
        rows, tracks, unmatched = self._associate(boxes, measurements[2])
        if len(rows):
            matched = self._tracks.take(tracks, 2)
            kalman_xysr.update_blocks(matched[:_COUNTERS], measurements.take(rows, 1))
            matched[_COUNTERS, _STREAK] += 1
            matched[_COUNTERS, _MISSES] = 0
            matched[_COUNTERS, _ROW] = rows
            self._tracks[:, :, tracks] = matched
        if len(unmatched):
            self._add_tracks(measurements.take(unmatched, 1), unmatched)

    def _associate(self, boxes: np.ndarray, areas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(detection rows, track columns) of the matches, and the unmatched detections in the original's order."""
        count = boxes.shape[1]
        if self._tracks.shape[2] == 0:
            return _NO_ROWS, _NO_ROWS, np.arange(count)
        iou = _iou(boxes, areas, _corners(self._tracks[0]))
        rows, tracks = np.nonzero(iou > self.iou_threshold)
        if len(rows) and len(set(rows.tolist())) == len(rows) == len(set(tracks.tolist())):  # one to one
            undone = _NO_ROWS
        else:
            rows, tracks = solve_assignment(-iou)
            good = iou[rows, tracks] >= self.iou_threshold
            rows, tracks, undone = rows[good], tracks[good], rows[~good]
        if len(rows) + len(undone) == count:
            return rows, tracks, undone
        free = np.ones(count, bool)
        free[rows] = False
        free[undone] = False
        return rows, tracks, np.concatenate((free.nonzero()[0], undone))

    def _add_tracks(self, measurements: np.ndarray, rows: np.ndarray) -> None:
        """New tracks from (4, K) measurements, those of the detections in `rows`."""
        count = len(rows)
        born = _NEW_TRACK.repeat(count, 2)
        born[0] = measurements
        born[_COUNTERS, _ID] = np.arange(self._next_id, self._next_id + count)
        born[_COUNTERS, _ROW] = rows
        self._next_id += count
        self._tracks = np.concatenate((self._tracks, born), axis=2)

    def _report(self) -> Detections:
        """Tracks matched this frame, and matched `min_hits` in a row or still in the first frames, with their
        boxes now and their last detection's score and class id."""
        counters = self._tracks[_COUNTERS]
        shown = counters[_MISSES] == 0
        if self._frame_count > self.min_hits:
            shown &= counters[_STREAK] >= self.min_hits
        tracks = self._tracks.compress(shown, 2)
        rows = tracks[_COUNTERS, _ROW].astype(np.intp)
        return Detections(xyxy=_corners(tracks[0]).T.astype(np.float32, order="C"),
                          scores=self._detections.scores.take(rows), class_ids=self._detections.class_ids.take(rows),
                          track_ids=tracks[_COUNTERS, _ID].astype(np.int64))


def _measurements(boxes: np.ndarray) -> np.ndarray:
    """(4, M) x1, y1, x2, y2 -> (4, M) cx, cy, area, aspect; the original's `convert_bbox_to_z`."""
    size = boxes[2:] - boxes[:2]
    measurements = np.empty(boxes.shape)
    np.add(boxes[:2], size / 2, out=measurements[:2])
    np.multiply(size[0], size[1], out=measurements[2])
    np.divide(size[0], size[1], out=measurements[3])
    return measurements


def _corners(mean: np.ndarray) -> np.ndarray:
    """(4, N) cx, cy, area, aspect -> (4, N) x1, y1, x2, y2; the original's `convert_x_to_bbox`."""
    half = np.empty((2, mean.shape[1]))
    np.sqrt(mean[2] * mean[3], out=half[0])  # the width
    np.divide(mean[2], half[0], out=half[1])  # the height
    half /= 2
    corners = np.empty((4, mean.shape[1]))
    np.subtract(mean[:2], half, out=corners[:2])
    np.add(mean[:2], half, out=corners[2:])
    return corners


def _iou(boxes: np.ndarray, areas: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(M, N) IoU of M detections ((4, M) corners, their areas) and N predicted boxes ((4, N) corners), as the
    original's `iou_batch` computes it (no guard for an empty union: boxes here have area)."""
    boxes = boxes[:, :, None]
    predicted = predicted[:, None, :]
    size = np.minimum(boxes[2:], predicted[2:])
    size -= np.maximum(boxes[:2], predicted[:2])
    np.maximum(size, 0.0, out=size)
    overlap = size[0] * size[1]
    extent = predicted[2:] - predicted[:2]
    union = areas[:, None] + extent[0] * extent[1]
    union -= overlap
    overlap /= union
    return overlap
