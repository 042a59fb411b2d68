"""SORT: each track's Kalman-predicted box is matched to this frame's detections by IoU, one assignment a frame.

The algorithm of abewley/sort (commit 2236dff, `sort.py`: `Sort.update`, `associate_detections_to_trackers`,
`iou_batch`, `KalmanBoxTracker`), step for step and with its arithmetic, but with all tracks in arrays: one
batched Kalman step a frame instead of one filterpy object a track (`kalman_xysr`'s block form), and every
track's whole state in one array. The per-frame arithmetic is compiled (numba): at tens of tracks, a frame of
NumPy calls on tiny arrays costs more in call overhead than in arithmetic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
#: A new track's (6, 4) Kalman blocks, its measurement still to go into row 0.
_INITIAL_BLOCKS = np.ascontiguousarray(kalman_xysr.INITIAL_BLOCKS[:, :, 0])


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
        self._detections = detections
        self._tracks = _advance(self._tracks, True)
        overlaps, rows, columns = _overlaps(self._tracks, detections.xyxy, self.iou_threshold)
        if overlaps.size and not len(rows):  # the pairs above the threshold are not one to one
            rows, columns = solve_assignment(-overlaps)
        self._tracks, self._next_id = _correct(self._tracks, detections.xyxy, overlaps, rows, columns,
                                               self.iou_threshold, self._next_id)
        return self._report()

    def predict(self, packet: FramePacket) -> Detections:
        self._tracks = _advance(self._tracks, False)
        return self._report()

    def _report(self) -> Detections:
        """The tracks to show (`_shown`) with their boxes now and their last detection's score and class id; then
        tracks missed more than `max_age` times in a row are forgotten."""
        self._tracks, xyxy, track_ids, rows = _shown(self._tracks, self._frame_count <= self.min_hits,
                                                     self.min_hits, self.max_age)
        return Detections(xyxy=xyxy, scores=self._detections.scores.take(rows),
                          class_ids=self._detections.class_ids.take(rows), track_ids=track_ids)


@njit(cache=True, error_model="numpy")
def _advance(tracks: np.ndarray, count_miss: bool) -> np.ndarray:
    """Predict every track one frame ahead and drop those whose box is undefined (area x aspect not positive: the
    original's NaN box). With `count_miss` (a detector frame) each track starts the frame unmatched, as the
    original's `predict` counts: its streak ends if it was missed last frame, and its misses go up by one."""
    kalman_xysr.predict_blocks(tracks)
    keep = np.empty(tracks.shape[2], np.bool_)
    for n in range(tracks.shape[2]):
        keep[n] = tracks[0, 2, n] * tracks[0, 3, n] > 0
        if count_miss:
            if tracks[_COUNTERS, _MISSES, n] > 0:
                tracks[_COUNTERS, _STREAK, n] = 0.0
            tracks[_COUNTERS, _MISSES, n] += 1.0
    return tracks if keep.all() else tracks[:, :, keep]


@njit(cache=True, error_model="numpy")
def _overlaps(tracks: np.ndarray, boxes: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M, N) IoU of the M (M, 4) float32 detection boxes and the N tracks' predicted boxes, as the original's
    `iou_batch` computes it (no guard for an empty union: boxes here have area); and the (detection, track)
    pairs above `threshold`, by detection, when there are some and they are one to one (else none)."""
    count = tracks.shape[2]
    predicted = np.empty((count, 5))  # x1, y1, x2, y2, area
    for n in range(count):
        x1, y1, x2, y2 = _corners(tracks, n)
        predicted[n, 0], predicted[n, 1], predicted[n, 2], predicted[n, 3] = x1, y1, x2, y2
        predicted[n, 4] = (x2 - x1) * (y2 - y1)
    overlaps = np.empty((len(boxes), count))
    row_used = np.zeros(len(boxes), np.bool_)
    column_used = np.zeros(count, np.bool_)
    one_to_one, pairs = True, 0
    for m in range(len(boxes)):
        x1, y1, x2, y2 = np.float64(boxes[m, 0]), np.float64(boxes[m, 1]), np.float64(boxes[m, 2]), \
            np.float64(boxes[m, 3])
        area = (x2 - x1) * (y2 - y1)
        for n in range(count):
            width = max(0.0, min(x2, predicted[n, 2]) - max(x1, predicted[n, 0]))
            height = max(0.0, min(y2, predicted[n, 3]) - max(y1, predicted[n, 1]))
            overlap = width * height
            overlaps[m, n] = overlap / (area + predicted[n, 4] - overlap)
            if overlaps[m, n] > threshold:
                one_to_one &= not (row_used[m] or column_used[n])
                row_used[m] = column_used[n] = True
                pairs += 1
    if not one_to_one:
        pairs = 0
    rows, columns = np.empty(pairs, np.int64), np.empty(pairs, np.int64)
    if pairs:
        k = 0
        for m in range(len(boxes)):
            for n in range(count):
                if overlaps[m, n] > threshold:
                    rows[k], columns[k] = m, n
                    k += 1
    return overlaps, rows, columns


@njit(cache=True, error_model="numpy")
def _correct(tracks: np.ndarray, boxes: np.ndarray, overlaps: np.ndarray, rows: np.ndarray, columns: np.ndarray,
             threshold: float, next_id: int) -> tuple[np.ndarray, int]:
    """Correct the tracks matched to detections (pairs `rows`, `columns`, undone where the IoU is below
    `threshold`) and start a track from every other detection, in the original's order (those no pair took,
    then those of undone pairs), with ids from `next_id`. Returns the tracks and the next free id."""
    unmatched = np.ones(len(boxes), np.bool_)
    undone = np.empty(len(rows), np.int64)
    undone_count = 0
    for k in range(len(rows)):
        m, n = rows[k], columns[k]
        unmatched[m] = False
        if overlaps[m, n] < threshold:
            undone[undone_count] = m
            undone_count += 1
            continue
        measurement = _measurement(boxes, m)
        for q in range(4):
            kalman_xysr.update_block(tracks, q, n, measurement[q])
        tracks[_COUNTERS, _STREAK, n] += 1.0
        tracks[_COUNTERS, _MISSES, n] = 0.0
        tracks[_COUNTERS, _ROW, n] = m
    born = np.concatenate((np.flatnonzero(unmatched), undone[:undone_count]))
    if not len(born):
        return tracks, next_id
    count = tracks.shape[2]
    grown = np.zeros((tracks.shape[0], 4, count + len(born)))
    grown[:, :, :count] = tracks
    for k in range(len(born)):
        n = count + k
        grown[:_COUNTERS, :, n] = _INITIAL_BLOCKS
        grown[0, :, n] = _measurement(boxes, born[k])
        grown[_COUNTERS, _ID, n] = next_id + k
        grown[_COUNTERS, _ROW, n] = born[k]
    return grown, next_id + len(born)


@njit(cache=True, error_model="numpy")
def _shown(tracks: np.ndarray, early: bool, min_hits: int, max_age: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tracks matched this frame, and matched `min_hits` in a row or still `early` (the stream's first
    `min_hits` frames): (K, 4) float32 boxes, ids and the rows of their last detections. Returned first: the
    tracks without those missed more than `max_age` times in a row."""
    counters = tracks[_COUNTERS]
    shown = np.flatnonzero((counters[_MISSES] == 0) & ((counters[_STREAK] >= min_hits) | early))
    xyxy = np.empty((len(shown), 4), np.float32)
    track_ids, rows = np.empty(len(shown), np.int64), np.empty(len(shown), np.int64)
    for k in range(len(shown)):
        x1, y1, x2, y2 = _corners(tracks, shown[k])
        xyxy[k, 0], xyxy[k, 1], xyxy[k, 2], xyxy[k, 3] = x1, y1, x2, y2
        track_ids[k] = tracks[_COUNTERS, _ID, shown[k]]
        rows[k] = tracks[_COUNTERS, _ROW, shown[k]]
    alive = counters[_MISSES] <= max_age
    return (tracks if alive.all() else tracks[:, :, alive]), xyxy, track_ids, rows


@njit(cache=True, error_model="numpy")
def _measurement(boxes: np.ndarray, m: int) -> np.ndarray:
    """Detection m's x1, y1, x2, y2 -> cx, cy, area, aspect; the original's `convert_bbox_to_z`."""
    x1, y1 = np.float64(boxes[m, 0]), np.float64(boxes[m, 1])
    width, height = np.float64(boxes[m, 2]) - x1, np.float64(boxes[m, 3]) - y1
    return np.array((x1 + width / 2, y1 + height / 2, width * height, width / height))


@njit(cache=True, error_model="numpy")
def _corners(tracks: np.ndarray, n: int) -> tuple[float, float, float, float]:
    """Track n's cx, cy, area, aspect -> x1, y1, x2, y2; the original's `convert_x_to_bbox`."""
    cx, cy, area = tracks[0, 0, n], tracks[0, 1, n], tracks[0, 2, n]
    width = np.sqrt(area * tracks[0, 3, n])
    height = area / width
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2
