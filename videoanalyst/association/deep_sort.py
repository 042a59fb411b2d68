"""DeepSORT: Kalman-predicted tracks matched to detections by appearance first, most recently seen tracks first,
then by box overlap.

The algorithm of nwojke/deep_sort (commit f08cf1d): `deep_sort/tracker.py`, `track.py`, `linear_assignment.py`,
`iou_matching.py`, `nn_matching.py`, and the per-frame steps of `deep_sort_app.py` (confidence and height filters,
non-maximum suppression, output of confirmed tracks). Given the same detections and features it reports the same
tracks with the same ids (`evaluation/reference/nwojke_deep_sort.py` checks it). Track state lives in arrays and the
Kalman steps run on all tracks at once; only the matching cascade loops, over track ages.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import linear_sum_assignment

from videoanalyst.association import kalman_xyah
from videoanalyst.association.appearance_gallery import AppearanceGallery, Metric
from videoanalyst.association.associator import Associator
from videoanalyst.association.matching import iou_matrix
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import FramePacket
from videoanalyst.errors import ConfigError, InputError

#: Cost of a pair ruled out before assignment: outside the Mahalanobis gate, or a track too old for IoU matching.
INFTY_COST = 1e5
#: Costs above a stage's threshold are set to threshold + this before assignment; pairs made at it are dropped.
OVER_THRESHOLD = 1e-5


@dataclasses.dataclass
class _Tracks:
    """Live tracks, one row each, in the reference's list order (birth order)."""

    mean: np.ndarray  # (N, 8) Kalman state cx, cy, aspect, height and their velocities
    covariance: np.ndarray  # (N, 8, 8)
    ids: np.ndarray  # (N,) int64, from 1
    hits: np.ndarray  # (N,) int64 measurement updates, the birth included
    misses: np.ndarray  # (N,) int64 frames since the last update (the reference's time_since_update)
    confirmed: np.ndarray  # (N,) bool; False: tentative
    slots: np.ndarray  # (N,) int64 gallery slots
    scores: np.ndarray  # (N,) float32 score of the last matched detection
    class_ids: np.ndarray  # (N,) int64 class of the last matched detection

    @classmethod
    def empty(cls) -> _Tracks:
        return cls(np.zeros((0, 8)), np.zeros((0, 8, 8)), *(np.zeros(0, np.int64) for _ in range(3)),
                   np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, index: np.ndarray) -> _Tracks:
        return _Tracks(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    def extend(self, other: _Tracks) -> _Tracks:
        return _Tracks(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                         for f in dataclasses.fields(self)))


class DeepSort(Associator):
    """Multi-object tracking by Kalman motion, appearance features and IoU (Wojke et al., 2017).

    Detections must carry `embeddings` (run a ReID stage first). Each frame: detections below `min_confidence` or
    `min_detection_height` are dropped and the rest pass non-maximum suppression; tracks are predicted; confirmed
    tracks are matched to detections by their nearest-neighbour appearance distance, gated by the Mahalanobis
    distance (chi-square 0.95) and `max_appearance_distance`, in order of frames since their last match (1 ..
    `max_age`); then tentative tracks and tracks missed only in the previous frame are matched by IoU. Unmatched
    detections start tentative tracks, confirmed after `n_init` matches in a row. Reported: confirmed tracks matched
    in this frame or the one before, box = Kalman mean, score and class of the last matched detection.

    Defaults are those nwojke/deep_sort's `evaluate_motchallenge.py` and README run with (min_confidence 0.3,
    nn_budget 100); `deep_sort_app.py`'s own argument defaults are 0.8 and no budget (an unbounded gallery).

    Args:
        max_appearance_distance: appearance gate (the reference's max_cosine_distance); pairs farther apart in
            appearance are never matched by the cascade. Raising it re-links tracks after longer gaps and more
            change in appearance, at the risk of identity switches between similar objects.
        appearance_metric: "cosine" (1 - cosine similarity) or "euclidean" (squared distance) between features.
        nn_budget: features kept per track for the nearest-neighbour distance, newest first. Raising it remembers
            older appearances (more memory and time per frame); lowering it adapts faster to appearance change.
        max_iou_distance: pairs with 1 - IoU above this are never matched by the IoU stage. Raising it accepts
            looser overlaps.
        max_age: frames a confirmed track survives without a match, and the depth of the matching cascade.
            Raising it bridges longer occlusions and keeps more tracks alive.
        n_init: matches in a row before a track is confirmed and reported. Raising it suppresses tracks born of
            false positives but reports real ones later.
        min_confidence: detections scoring below this are ignored. Raising it drops false positives and weak
            true detections.
        nms_max_overlap: non-maximum suppression: a detection overlapping a higher-scoring one by more than this
            fraction of its own area (+1 pixel convention, as the reference) is dropped; 1.0 suppresses nothing.
        min_detection_height: detections lower than this many pixels are ignored.
    """

    def __init__(
        self,
        max_appearance_distance: float = 0.2,
        appearance_metric: Metric = "cosine",
        nn_budget: int = 100,
        max_iou_distance: float = 0.7,
        max_age: int = 30,
        n_init: int = 3,
        min_confidence: float = 0.3,
        nms_max_overlap: float = 1.0,
        min_detection_height: float = 0.0,
    ) -> None:
        if nn_budget < 1 or max_age < 1 or n_init < 1:
            raise ConfigError(f"deep_sort: nn_budget, max_age and n_init must be >= 1, got nn_budget={nn_budget}, "
                              f"max_age={max_age}, n_init={n_init}")
        if appearance_metric not in ("cosine", "euclidean"):
            raise ConfigError(f"deep_sort: appearance_metric must be 'cosine' or 'euclidean', got "
                              f"{appearance_metric!r}")
        self.max_appearance_distance = max_appearance_distance
        self.appearance_metric = appearance_metric
        self.nn_budget = nn_budget
        self.max_iou_distance = max_iou_distance
        self.max_age = max_age
        self.n_init = n_init
        self.min_confidence = min_confidence
        self.nms_max_overlap = nms_max_overlap
        self.min_detection_height = min_detection_height
        self.start()

    def start(self) -> None:
        self._tracks = _Tracks.empty()
        self._gallery = AppearanceGallery(self.nn_budget, self.appearance_metric)
        self._next_id = 1

    def update(self, detections: Detections, packet: FramePacket) -> Detections:
        detections = self._admit(detections, packet)
        tracks = self._tracks
        tracks.mean, tracks.covariance = kalman_xyah.predict(tracks.mean, tracks.covariance)
        tracks.misses += 1
        rows, columns, unmatched = self._associate(detections)
        self._correct(rows, detections[columns])
        missed = np.ones(len(tracks), bool)
        missed[rows] = False
        ended = missed & (~tracks.confirmed | (tracks.misses > self.max_age))
        self._gallery.release(tracks.slots[ended])
        self._tracks = tracks.select(~ended)
        self._begin(detections[unmatched])
        return self._report()

    def predict(self, packet: FramePacket) -> Detections:
        tracks = self._tracks
        tracks.mean, tracks.covariance = kalman_xyah.predict(tracks.mean, tracks.covariance)
        return self._report()

    def reported_boxes(self) -> tuple[np.ndarray, np.ndarray]:
        """Ids and float64 boxes x1, y1, x2, y2 of the tracks reported now (the output holds the boxes as float32)."""
        rows = self._reported_rows()
        return self._tracks.ids[rows], kalman_xyah.xyah_to_xyxy(self._tracks.mean[rows])

    def _admit(self, detections: Detections, packet: FramePacket) -> Detections:
        """The detections the tracker sees: filtered by score and height, in the reference's NMS order."""
        if len(detections) and detections.embeddings is None:
            raise InputError(f"deep_sort: frame {packet.frame_index} of {packet.stream_id!r} has detections "
                             f"without embeddings; DeepSORT matches by appearance, so a ReID stage must run "
                             f"before it to fill Detections.embeddings")
        dim = self._gallery.dim
        if len(detections) and dim is not None and detections.embeddings.shape[1] != dim:
            raise InputError(f"deep_sort: frame {packet.frame_index} of {packet.stream_id!r} has embeddings of "
                             f"dimension {detections.embeddings.shape[1]}; earlier frames had {dim}")
        xyxy = detections.xyxy.astype(np.float64)
        keep = ((detections.scores.astype(np.float64) >= self.min_confidence)
                & (xyxy[:, 3] - xyxy[:, 1] >= self.min_detection_height))
        detections = detections[keep]
        return detections[_suppression_order(detections.xyxy, detections.scores, self.nms_max_overlap)]

    def _associate(self, detections: Detections) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Matched track rows and detection indices, and the unmatched detections in the reference's order."""
        tracks = self._tracks
        confirmed = np.flatnonzero(tracks.confirmed)
        rows, columns, unmatched = self._cascade(confirmed, detections)
        # The reference lists the confirmed tracks the cascade left as a Python set (`tracker.py`, `_match`), whose
        # iteration order becomes the IoU cost rows' order; among equal costs that order can decide which
        # detections a rejected pair takes, and so which new track gets which id. The same set gives the same order.
        left = np.array(list(set(confirmed.tolist()) - set(rows.tolist())), np.int64)
        candidates = np.concatenate([np.flatnonzero(~tracks.confirmed), left[tracks.misses[left] == 1]])
        cost = 1.0 - iou_matrix(kalman_xyah.xyah_to_xyxy(tracks.mean[candidates]), detections.xyxy[unmatched])
        cost[tracks.misses[candidates] > 1] = INFTY_COST
        iou_rows, iou_columns, rest = _min_cost_matching(cost, self.max_iou_distance)
        return (np.concatenate([rows, candidates[iou_rows]]), np.concatenate([columns, unmatched[iou_columns]]),
                unmatched[rest])

    def _cascade(self, confirmed: np.ndarray, detections: Detections) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Appearance matching of the confirmed tracks, one assignment per age (frames since the last match),
        youngest first; each age takes the detections the younger ones left."""
        unmatched = np.arange(len(detections))
        matched_rows, matched_columns = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        if len(confirmed) == 0 or len(detections) == 0:
            return matched_rows[0], matched_columns[0], unmatched
        tracks = self._tracks
        gated = (kalman_xyah.gating_distance(tracks.mean[confirmed], tracks.covariance[confirmed], detections.xyxy)
                 > kalman_xyah.CHI2_95[4])
        cost = self._gallery.distance(tracks.slots[confirmed], detections.embeddings, candidates=~gated)
        cost[gated] = INFTY_COST
        ages = tracks.misses[confirmed]
        for age in np.unique(ages[ages <= self.max_age]):
            if len(unmatched) == 0:
                break
            level = np.flatnonzero(ages == age)
            rows, columns, rest = _min_cost_matching(cost[np.ix_(level, unmatched)], self.max_appearance_distance)
            matched_rows.append(confirmed[level[rows]])
            matched_columns.append(unmatched[columns])
            unmatched = unmatched[rest]
        return np.concatenate(matched_rows), np.concatenate(matched_columns), unmatched

    def _correct(self, rows: np.ndarray, detections: Detections) -> None:
        """Kalman update of the matched tracks; their galleries take the matched features."""
        tracks = self._tracks
        tracks.mean[rows], tracks.covariance[rows] = kalman_xyah.update(tracks.mean[rows], tracks.covariance[rows],
                                                                        detections.xyxy)
        tracks.misses[rows] = 0
        tracks.hits[rows] += 1
        tracks.confirmed[rows] |= tracks.hits[rows] >= self.n_init
        tracks.scores[rows] = detections.scores
        tracks.class_ids[rows] = detections.class_ids
        if len(rows):
            self._gallery.add(tracks.slots[rows], detections.embeddings)

    def _begin(self, detections: Detections) -> None:
        """Tentative tracks from unmatched detections, ids in the order given."""
        count = len(detections)
        if count == 0:
            return
        mean, covariance = kalman_xyah.initiate(detections.xyxy)
        ids = np.arange(self._next_id, self._next_id + count, dtype=np.int64)
        self._next_id += count
        born = _Tracks(mean, covariance, ids, np.ones(count, np.int64), np.zeros(count, np.int64),
                       np.zeros(count, bool), self._gallery.allocate(detections.embeddings), detections.scores,
                       detections.class_ids)
        self._tracks = self._tracks.extend(born)

    def _reported_rows(self) -> np.ndarray:
        """Confirmed tracks matched in this frame or the one before, as `deep_sort_app.py` writes its results."""
        return np.flatnonzero(self._tracks.confirmed & (self._tracks.misses <= 1))

    def _report(self) -> Detections:
        rows = self._reported_rows()
        tracks = self._tracks
        return Detections(kalman_xyah.xyah_to_xyxy(tracks.mean[rows]), scores=tracks.scores[rows],
                          class_ids=tracks.class_ids[rows], track_ids=tracks.ids[rows])


def _min_cost_matching(cost: np.ndarray, max_distance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference's `min_cost_matching` on an (R, C) cost matrix, by position.

    Costs above `max_distance` are set just above it, the assignment is solved with scipy's Hungarian solver (as
    there: its choice among equal costs decides the order below), and pairs above `max_distance` are undone.

    Returns:
        matched rows, matched columns, unmatched columns: those never assigned in column order, then those of
        undone pairs in row order.
    """
    if cost.shape[0] == 0 or cost.shape[1] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.arange(cost.shape[1])
    cost = np.where(cost > max_distance, max_distance + OVER_THRESHOLD, cost)
    rows, columns = linear_sum_assignment(cost)
    accepted = cost[rows, columns] <= max_distance
    unassigned = np.ones(cost.shape[1], bool)
    unassigned[columns] = False
    return rows[accepted], columns[accepted], np.concatenate([np.flatnonzero(unassigned), columns[~accepted]])


def _suppression_order(xyxy: np.ndarray, scores: np.ndarray, max_overlap: float) -> np.ndarray:
    """Indices of the detections kept by the reference's NMS (`application_util/preprocessing.py`), in its order:
    highest score first (NumPy's argsort of the float64 scores, read from the end).

    A box is dropped when its intersection with a kept box, in pixels counted inclusively (+1), exceeds
    `max_overlap` times its own area: not IoU, so torchvision's `nms` gives other results. That fraction never
    exceeds 1, so `max_overlap` >= 1 only sorts.
    """
    order = np.argsort(scores.astype(np.float64))
    if max_overlap >= 1:
        return order[::-1]
    x1, y1, x2, y2 = xyxy.astype(np.float64).T
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    kept = []
    while len(order):
        best, rest = order[-1], order[:-1]
        width = np.maximum(0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1)
        height = np.maximum(0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1)
        kept.append(best)
        order = rest[~(width * height / area[rest] > max_overlap)]
    return np.array(kept, np.int64)
