"""SORT: each track's Kalman-predicted box is matched to this frame's detections by IoU, one assignment a frame.

The algorithm of abewley/sort (commit 2236dff, `sort.py`: `Sort.update`, `associate_detections_to_trackers`,
`iou_batch`, `KalmanBoxTracker`), step for step and with its arithmetic, but with all tracks in arrays: one
batched Kalman step a frame instead of one filterpy object a track.
"""

from __future__ import annotations

import numpy as np

from videoanalyst.association import kalman_xysr
from videoanalyst.association.associator import Associator
from videoanalyst.association.batched_kalman import kalman_predict
from videoanalyst.association.matching import solve_assignment
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import FramePacket
from videoanalyst.errors import ConfigError

#: The per-track arrays, each with one row a track, in the order the original keeps its list of trackers.
_TRACK_ARRAYS = ("_mean", "_covariance", "_ids", "_streak", "_misses", "_rows")
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
        self._mean = np.zeros((0, 7))  # (N, 7) cx, cy, area, aspect and the velocities of the first three
        self._covariance = np.zeros((0, 7, 7))
        self._ids = np.zeros(0, np.int64)
        self._streak = np.zeros(0, np.int64)  # matches in a row (the original's hit_streak)
        self._misses = np.zeros(0, np.int64)  # frames since the last match (the original's time_since_update)
        self._rows = np.zeros(0, np.int64)  # row in `_detections` of the detection last matched (where misses == 0)
        self._detections = Detections.empty()  # of the last detector frame, for the scores and class ids
        self._frame_count = 0  # detector frames seen
        self._next_id = 1

    def update(self, detections: Detections, packet: FramePacket) -> Detections:
        self._frame_count += 1
        low, high = self._advance()
        self._streak[self._misses > 0] = 0
        self._misses += 1
        boxes = detections.xyxy.astype(np.float64)
        measurements = _measurements(boxes)
        rows, tracks, unmatched = self._associate(boxes, measurements[:, 2], low, high)
        if len(rows):
            self._mean[tracks], self._covariance[tracks] = kalman_xysr.fast_update(
                self._mean[tracks], self._covariance[tracks], measurements[rows])
            self._misses[tracks] = 0
            self._streak[tracks] += 1
            self._rows[tracks] = rows
        if len(unmatched):
            self._add_tracks(measurements[unmatched], unmatched)
        self._detections = detections
        shown = self._shown()
        low, high = _corners(self._mean[shown])
        result = self._report(shown, np.concatenate((low.T, high.T), axis=1))
        alive = self._misses <= self.max_age
        if not alive.all():
            self._keep(alive)
        return result

    def predict(self, packet: FramePacket) -> Detections:
        low, high = self._advance()
        shown = self._shown()
        return self._report(shown, np.concatenate((low.T, high.T), axis=1)[shown])

    def _advance(self) -> tuple[np.ndarray, np.ndarray]:
        """Predict every track one frame ahead and drop those without a box; their (2, N) low and high corners."""
        mean, covariance = kalman_predict(self._mean, self._covariance, kalman_xysr.MOTION, kalman_xysr.PROCESS_NOISE)
        if len(mean) and not mean[:, 2:4].min() > 0:
            # Some area reaches 0 (SORT first stops its shrinking) or some aspect is not positive: the exact steps.
            mean, covariance = kalman_xysr.predict(self._mean, self._covariance)
            self._mean, self._covariance = mean, covariance
            self._keep(mean[:, 2] * mean[:, 3] > 0)
        else:
            self._mean, self._covariance = mean, covariance
        return _corners(self._mean)

    def _associate(self, boxes: np.ndarray, areas: np.ndarray, low: np.ndarray,
                   high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(detection rows, track rows) of the matches, and the unmatched detections in the original's order."""
        if low.shape[1] == 0:
            return _NO_ROWS, _NO_ROWS, np.arange(len(boxes))
        if len(boxes) == 0:
            return _NO_ROWS, _NO_ROWS, _NO_ROWS
        iou = _iou(boxes, areas, low, high)
        rows, tracks = np.nonzero(iou > self.iou_threshold)
        if len(rows) and len(set(rows.tolist())) == len(rows) == len(set(tracks.tolist())):  # one to one
            undone = _NO_ROWS
        else:
            rows, tracks = solve_assignment(-iou)
            good = iou[rows, tracks] >= self.iou_threshold
            rows, tracks, undone = rows[good], tracks[good], rows[~good]
        if len(rows) + len(undone) == len(boxes):
            return rows, tracks, undone
        free = np.ones(len(boxes), bool)
        free[rows] = False
        if len(undone) == 0:
            return rows, tracks, np.flatnonzero(free)
        free[undone] = False
        return rows, tracks, np.concatenate((np.flatnonzero(free), undone))

    def _add_tracks(self, measurements: np.ndarray, rows: np.ndarray) -> None:
        count = len(measurements)
        mean = np.zeros((count, 7))
        mean[:, :4] = measurements
        covariance = np.repeat(kalman_xysr.INITIAL_COVARIANCE[None], count, axis=0)
        zeros = np.zeros(count, np.int64)
        ids = np.arange(self._next_id, self._next_id + count)
        self._next_id += count
        for name, new in zip(_TRACK_ARRAYS, (mean, covariance, ids, zeros, zeros, rows)):
            setattr(self, name, np.concatenate((getattr(self, name), new)))

    def _keep(self, keep: np.ndarray) -> None:
        for name in _TRACK_ARRAYS:
            setattr(self, name, getattr(self, name)[keep])

    def _shown(self) -> np.ndarray:
        """Tracks to report: matched this frame, and matched `min_hits` in a row or still in the first frames."""
        shown = self._misses == 0
        if self._frame_count > self.min_hits:
            shown &= self._streak >= self.min_hits
        return shown

    def _report(self, shown: np.ndarray, xyxy: np.ndarray) -> Detections:
        rows = self._rows[shown]
        return Detections(xyxy=xyxy, scores=self._detections.scores[rows],
                          class_ids=self._detections.class_ids[rows], track_ids=self._ids[shown])


def _measurements(boxes: np.ndarray) -> np.ndarray:
    """(M, 4) x1, y1, x2, y2 -> (M, 4) cx, cy, area, aspect; the original's `convert_bbox_to_z`."""
    size = boxes[:, 2:] - boxes[:, :2]
    measurements = np.empty((len(boxes), 4))
    np.add(boxes[:, :2], size / 2, out=measurements[:, :2])
    np.multiply(size[:, 0], size[:, 1], out=measurements[:, 2])
    np.divide(size[:, 0], size[:, 1], out=measurements[:, 3])
    return measurements


def _corners(mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2, N) low (x1, y1) and high (x2, y2) box corners of (N, 7) states; the original's `convert_x_to_bbox`."""
    half = np.empty((2, len(mean)))
    np.sqrt(mean[:, 2] * mean[:, 3], out=half[0])
    np.divide(mean[:, 2], half[0], out=half[1])
    half /= 2
    centre = mean[:, :2].T
    return centre - half, centre + half


def _iou(boxes: np.ndarray, areas: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """(M, N) IoU of M detections (xyxy, their areas) and N predicted boxes (corners), as the original's
    `iou_batch` computes it (no guard for an empty union: boxes here have area)."""
    corners = boxes.T
    size = np.minimum(corners[2:, :, None], high[:, None, :])
    size -= np.maximum(corners[:2, :, None], low[:, None, :])
    np.maximum(size, 0.0, out=size)
    overlap = size[0] * size[1]
    extent = high - low
    union = areas[:, None] + extent[0] * extent[1]
    union -= overlap
    overlap /= union
    return overlap
