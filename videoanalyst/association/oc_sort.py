"""OC-SORT: SORT's Kalman tracks, corrected by their own observations when the motion model alone would drift.

The algorithm of noahcao/OC_SORT (commit 8462e7e), its Python tracker: `trackers/ocsort_tracker/ocsort.py`
(`OCSort.update`, `KalmanBoxTracker`, `k_previous_obs`), `association.py` (`associate`, `speed_direction_batch`,
the `*_batch` similarities) and `kalmanfilter.py` (`KalmanFilterNew.freeze / unfreeze`), step for step, with the
tracks held in arrays instead of one filter object each.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, get_args

import numpy as np

from videoanalyst.association import kalman_xysr
from videoanalyst.association.associator import Associator
from videoanalyst.association.batched_kalman import kalman_predict, kalman_update
from videoanalyst.association.matching import iou_matrix, solve_assignment
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import FramePacket
from videoanalyst.errors import ConfigError

Similarity = Literal["iou", "giou", "diou", "ciou"]

#: Added to the box height in the aspect w / (h + eps) and to the length of direction vectors, as the original.
_EPS = 1e-6
#: Age recorded in an observation slot that holds nothing: no frame has it.
_EMPTY_SLOT = np.iinfo(np.int64).min


class OcSort(Associator):
    """OC-SORT (Cao et al., CVPR 2023) with the original's arguments, defaults and order of operations.

    Each detector frame: every track predicts one frame ahead (SORT's xysr model; tracks whose box turns NaN end).
    Detections scoring above `det_thresh` are matched to the predicted boxes on -(IoU + OCM), where the
    observation-centric momentum (OCM) is `inertia` x score x how well the track's direction of motion (between
    its observation `delta_t` frames back and its last one) agrees with the direction from that old observation to
    the detection; when the boxes above `iou_threshold` already pair up one to one those pairs are taken as they
    are, and pairs below `iou_threshold` are undone. With `use_byte`, the tracks left are matched by similarity to
    the detections scoring between `low_score` and `det_thresh`. Observation-centric recovery (OCR) then matches
    the detections left to the tracks left by the similarity to each track's last observation. A matched track
    that missed detector frames first gets the observation-centric re-update (ORU): its filter goes back to its
    state at its last observation and is run through one virtual box a frame, interpolated linearly (centre,
    width, height) between that observation and the new one; then it takes the detection as any matched track.
    Every high detection left starts a track (ids from 1 per stream; the original counts from 0 and reports id + 1).

    A track is reported while it was matched this frame and has been matched `min_hits` detector frames in a row
    (any track during the first `min_hits` frames), with the box it was matched to (the original's
    `last_observation`; a track born this frame: its Kalman box) and that detection's score and class. It ends
    after more than `max_age` detector frames without a match. Only `delta_t` frames of observations are kept per
    track (the original keeps them all; nothing older is ever read).

    Like the original, a track tells its last observation from "none yet" by the sum of its box and score being
    >= 0: a detection far enough up and left of the image counts as none for the direction and the reported box.
    The original divides boxes by min(img_size / img_info), 1 when the detector's input size is the image size;
    here boxes are always in image pixels.

    A frame the detector skipped (`predict`) advances every track one frame and reports the predicted boxes of the
    tracks the last detector frame reported; it counts no miss. ORU interpolates over every frame since the last
    observation, skipped ones included.

    Args:
        det_thresh: detections scoring above it are matched first and start tracks (the original's
            `--track_thresh`, 0.6 in its MOT17 runs). Raising it drops weak detections (fewer false tracks, more
            misses); lowering it starts tracks on clutter.
        max_age: detector frames a track survives without a match. Raising it carries tracks through longer
            occlusions (fewer new ids) but lets lost tracks take other objects' detections.
        min_hits: matches in a row before a track is reported. Raising it suppresses tracks of false detections
            but reports new objects later and hides a track for longer after each miss.
        iou_threshold: least IoU (in the first matching) or similarity (BYTE, OCR) for a match. Raising it refuses
            loose matches (fast objects get new ids); lowering it lets neighbours take each other's detections.
        delta_t: frames between the two observations that give a track's direction (and how far back OCM looks).
            Raising it smooths the direction over jitter but reacts later to turns.
        asso_func: similarity of the BYTE and OCR stages: "iou", or "giou" / "diou" / "ciou" (each mapped from
            [-1, 1] to [0, 1]), which also score boxes that do not overlap by their distance.
        inertia: weight of OCM against IoU in the first matching. Raising it favours detections along each
            track's direction of motion; 0 matches on IoU alone.
        use_byte: also match the tracks left after the first matching to low-score detections (ByteTrack's second
            stage), which keeps tracks alive through partial occlusion at the cost of some false matches.
        low_score: with `use_byte`, detections scoring above it (and below `det_thresh`) are the low-score ones;
            the original's fixed 0.1. Lowering it lets weaker detections extend tracks.
    """

    def __init__(self, det_thresh: float = 0.6, max_age: int = 30, min_hits: int = 3, iou_threshold: float = 0.3,
                 delta_t: int = 3, asso_func: Similarity = "iou", inertia: float = 0.2, use_byte: bool = False,
                 low_score: float = 0.1) -> None:
        if asso_func not in get_args(Similarity):
            raise ConfigError(f"oc_sort: asso_func must be one of {', '.join(get_args(Similarity))}; got "
                              f"{asso_func!r}")
        if max_age < 0 or min_hits < 0 or delta_t < 1 or not 0 <= iou_threshold <= 1 or inertia < 0:
            raise ConfigError(f"oc_sort: need max_age >= 0, min_hits >= 0, delta_t >= 1, 0 <= iou_threshold <= 1 "
                              f"and inertia >= 0; got max_age={max_age}, min_hits={min_hits}, delta_t={delta_t}, "
                              f"iou_threshold={iou_threshold}, inertia={inertia}")
        self.det_thresh = det_thresh
        self.max_age = max_age
        self.min_hits = min_hits
        self.iou_threshold = iou_threshold
        self.delta_t = delta_t
        self.asso_func = asso_func
        self.inertia = inertia
        self.use_byte = use_byte
        self.low_score = low_score
        self.start()

    def start(self) -> None:
        self._tracks = _Tracks.born(np.zeros((0, 5)), np.zeros(0, np.int64), np.zeros(0, np.int64), self.delta_t)
        self._frame_count = 0
        self._next_id = 1

    def update(self, detections: Detections, packet: FramePacket) -> Detections:
        self._frame_count += 1
        observed = np.concatenate([detections.xyxy, detections.scores[:, None]], axis=1).astype(np.float64)
        high = np.flatnonzero(observed[:, 4] > self.det_thresh)
        predicted = self._advance()
        tracks = self._tracks
        tracks.hit_streak[tracks.since_update > 0] = 0
        tracks.since_update += 1
        back = tracks.observation_back(self.delta_t)
        pairs, left_dets, left_tracks = _first_matching(observed[high], predicted, back, tracks.direction,
                                                        self.iou_threshold, self.inertia)
        taken_tracks, taken_dets = [pairs[:, 1]], [high[pairs[:, 0]]]
        if self.use_byte and len(left_tracks):
            low = np.flatnonzero((observed[:, 4] > self.low_score) & (observed[:, 4] < self.det_thresh))
            recovered = self._second_matching(observed[low, :4], predicted[left_tracks])
            if recovered is not None:
                taken_tracks.append(left_tracks[recovered[1]])
                taken_dets.append(low[recovered[0]])
                left_tracks = np.setdiff1d(left_tracks, left_tracks[recovered[1]])
        if len(left_dets) and len(left_tracks):
            recovered = self._second_matching(observed[high[left_dets], :4], tracks.last_observation[left_tracks, :4])
            if recovered is not None:
                taken_tracks.append(left_tracks[recovered[1]])
                taken_dets.append(high[left_dets[recovered[0]]])
                left_dets = np.setdiff1d(left_dets, left_dets[recovered[0]])
        rows, taken = np.concatenate(taken_tracks), np.concatenate(taken_dets)
        self._take(rows, observed[taken], detections.class_ids[taken], back[rows])
        self._start_tracks(observed[high[left_dets]], detections.class_ids[high[left_dets]])
        tracks = self._tracks
        seen = tracks.last_observation.sum(axis=1) >= 0
        boxes = np.where(seen[:, None], tracks.last_observation[:, :4], kalman_xysr.xysr_to_xyxy(tracks.mean))
        shown = self._shown()
        result = tracks.report(shown, boxes[shown])
        alive = tracks.since_update <= self.max_age
        if not alive.all():
            self._tracks = tracks.select(alive)
        return result

    def predict(self, packet: FramePacket) -> Detections:
        predicted = self._advance()
        shown = self._shown()
        return self._tracks.report(shown, predicted[shown])

    def _advance(self) -> np.ndarray:
        """Every track one frame ahead; drop those whose predicted box is NaN. (N, 4) predicted x1, y1, x2, y2."""
        tracks = self._tracks
        tracks.mean, tracks.covariance = kalman_xysr.predict(tracks.mean, tracks.covariance)
        tracks.age += 1
        predicted = kalman_xysr.xysr_to_xyxy(tracks.mean)
        lost = ~np.isfinite(predicted).all(axis=1)
        if lost.any():
            self._tracks = tracks.select(~lost)
            predicted = predicted[~lost]
        return predicted

    def _shown(self) -> np.ndarray:
        """(N,) bool: the tracks to report, matched this detector frame and confirmed (or early in the stream)."""
        tracks = self._tracks
        return (tracks.since_update < 1) & ((tracks.hit_streak >= self.min_hits)
                                            | (self._frame_count <= self.min_hits))

    def _second_matching(self, boxes: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """BYTE and OCR: (box rows, target rows) matched one to one by `asso_func` similarity, pairs below
        `iou_threshold` undone; None when no similarity exceeds it (the original then leaves its lists as they
        are, unsorted)."""
        similarity = box_similarity(self.asso_func, boxes, targets)
        if similarity.size == 0 or not similarity.max() > self.iou_threshold:
            return None
        rows, cols = solve_assignment(-similarity)
        good = similarity[rows, cols] >= self.iou_threshold
        return rows[good], cols[good]

    def _take(self, rows: np.ndarray, observed: np.ndarray, class_ids: np.ndarray, back: np.ndarray) -> None:
        """Tracks `rows` take their (M, 5) detections: direction, observation history, ORU, Kalman update."""
        tracks = self._tracks
        seen = tracks.last_observation[rows].sum(axis=1) >= 0
        tracks.direction[rows[seen]] = np.stack(_unit_direction(back[seen, :4], observed[seen, :4]), axis=1)
        slot = tracks.age[rows] % self.delta_t
        tracks.recent[rows, slot] = observed
        tracks.recent_age[rows, slot] = tracks.age[rows]
        tracks.last_observation[rows] = observed
        tracks.score[rows] = observed[:, 4]
        tracks.class_id[rows] = class_ids
        measurement = _measurement(observed[:, :4])
        anchor_measurement = measurement.copy()
        late = np.flatnonzero((tracks.since_update[rows] > 1) & (tracks.anchor_age[rows] >= 0))
        if len(late):
            back_again = rows[late]
            tracks.mean[back_again], tracks.covariance[back_again], anchor_measurement[late] = _re_update(
                tracks.anchor_mean[back_again], tracks.anchor_covariance[back_again],
                tracks.anchor_measurement[back_again], measurement[late],
                tracks.age[back_again] - tracks.anchor_age[back_again])
        mean, covariance = kalman_update(tracks.mean[rows], tracks.covariance[rows], measurement,
                                         kalman_xysr.OBSERVATION, kalman_xysr.MEASUREMENT_NOISE)
        tracks.mean[rows] = tracks.anchor_mean[rows] = mean
        tracks.covariance[rows] = tracks.anchor_covariance[rows] = covariance
        tracks.anchor_measurement[rows] = anchor_measurement
        tracks.anchor_age[rows] = tracks.age[rows]
        tracks.since_update[rows] = 0
        tracks.hit_streak[rows] += 1

    def _start_tracks(self, observed: np.ndarray, class_ids: np.ndarray) -> None:
        if len(observed):
            ids = np.arange(self._next_id, self._next_id + len(observed))
            self._next_id += len(observed)
            self._tracks = self._tracks.extended(_Tracks.born(observed, class_ids, ids, self.delta_t))


@dataclass
class _Tracks:
    """The live tracks, one row each, in the original's list order (by birth).

    Args:
        ids: (N,) int64 track ids, from 1.
        mean, covariance: (N, 7), (N, 7, 7) Kalman state cx, cy, area, aspect, vcx, vcy, varea.
        age: (N,) frames since birth.
        since_update: (N,) detector frames since the last match (the original's time_since_update).
        hit_streak: (N,) detector frames matched in a row.
        direction: (N, 2) unit (dy, dx) from the observation delta_t frames before the last one to the last one;
            0 until there are two.
        last_observation: (N, 5) x1, y1, x2, y2, score last matched; -1s before the first match.
        recent, recent_age: (N, delta_t, 5) observations of the last delta_t frames in slot age % delta_t, and the
            age each slot holds (`_EMPTY_SLOT`: none).
        score, class_id: (N,) of the detection the track last took (or was born from).
        anchor_mean, anchor_covariance: the Kalman posterior after the last update, where ORU starts again.
        anchor_measurement: (N, 4) the xysr measurement the filter last took (ORU's last virtual box after ORU).
        anchor_age: (N,) age at the last update; -1 before the first (birth is no update, so no ORU).
    """

    ids: np.ndarray
    mean: np.ndarray
    covariance: np.ndarray
    age: np.ndarray
    since_update: np.ndarray
    hit_streak: np.ndarray
    direction: np.ndarray
    last_observation: np.ndarray
    recent: np.ndarray
    recent_age: np.ndarray
    score: np.ndarray
    class_id: np.ndarray
    anchor_mean: np.ndarray
    anchor_covariance: np.ndarray
    anchor_measurement: np.ndarray
    anchor_age: np.ndarray

    @classmethod
    def born(cls, observed: np.ndarray, class_ids: np.ndarray, ids: np.ndarray, delta_t: int) -> _Tracks:
        """New tracks from (N, 5) detections: the box as the state, zero velocity, nothing observed yet."""
        count = len(observed)
        mean = np.zeros((count, 7))
        mean[:, :4] = _measurement(observed[:, :4])
        zeros = np.zeros(count, np.int64)
        return cls(ids=ids, mean=mean, covariance=np.repeat(kalman_xysr.INITIAL_COVARIANCE[None], count, axis=0),
                   age=zeros, since_update=zeros.copy(), hit_streak=zeros.copy(), direction=np.zeros((count, 2)),
                   last_observation=np.full((count, 5), -1.0), recent=np.zeros((count, delta_t, 5)),
                   recent_age=np.full((count, delta_t), _EMPTY_SLOT), score=observed[:, 4].copy(),
                   class_id=np.asarray(class_ids, np.int64), anchor_mean=np.zeros((count, 7)),
                   anchor_covariance=np.zeros((count, 7, 7)), anchor_measurement=np.zeros((count, 4)),
                   anchor_age=np.full(count, -1, np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, index: np.ndarray) -> _Tracks:
        return _Tracks(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def extended(self, other: _Tracks) -> _Tracks:
        return _Tracks(**{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                          for f in fields(self)})

    def observation_back(self, delta_t: int) -> np.ndarray:
        """(N, 5) each track's observation delta_t frames back, else the nearest later one within delta_t, else
        its last (-1s: none), as the original's `k_previous_obs` at the track's current age."""
        found = self.last_observation.copy()
        pending = np.ones(len(self), bool)
        rows = np.arange(len(self))
        for back in range(delta_t, 0, -1):
            age = self.age - back
            slot = age % delta_t
            hit = pending & (self.recent_age[rows, slot] == age)
            found[hit] = self.recent[rows[hit], slot[hit]]
            pending &= ~hit
        return found

    def report(self, shown: np.ndarray, xyxy: np.ndarray) -> Detections:
        return Detections(xyxy=xyxy, scores=self.score[shown], class_ids=self.class_id[shown],
                          track_ids=self.ids[shown])


def box_similarity(kind: Similarity, boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(N, M) similarity of (N, 4) and (M, 4) x1, y1, x2, y2 boxes, as OC-SORT's `iou_batch` / `giou_batch` /
    `diou_batch` / `ciou_batch`: IoU; or GIoU, DIoU, CIoU (the original's +1 on heights in CIoU's aspect term)
    mapped from [-1, 1] to [0, 1] by (x + 1) / 2."""
    iou = iou_matrix(boxes_a, boxes_b)
    if kind == "iou":
        return iou
    a = np.asarray(boxes_a, np.float64).reshape(-1, 4)[:, None, :]
    b = np.asarray(boxes_b, np.float64).reshape(-1, 4)[None, :, :]
    enclosing = np.maximum(a[..., 2:], b[..., 2:]) - np.minimum(a[..., :2], b[..., :2])  # (N, M, 2) width, height
    if kind == "giou":
        area_sum = np.prod(a[..., 2:] - a[..., :2], axis=-1) + np.prod(b[..., 2:] - b[..., :2], axis=-1)
        union = area_sum / (1 + iou)  # IoU = I / (A + B - I)  =>  A + B - I = (A + B) / (1 + IoU)
        enclosing_area = np.prod(enclosing, axis=-1)
        similarity = iou - (enclosing_area - union) / enclosing_area
    else:
        centre_offset = (a[..., :2] + a[..., 2:]) / 2.0 - (b[..., :2] + b[..., 2:]) / 2.0
        similarity = iou - np.sum(centre_offset**2, axis=-1) / np.sum(enclosing**2, axis=-1)
        if kind == "ciou":
            width_a, width_b = a[..., 2] - a[..., 0], b[..., 2] - b[..., 0]
            height_a, height_b = a[..., 3] - a[..., 1] + 1.0, b[..., 3] - b[..., 1] + 1.0
            aspect_gap = 4 / np.pi**2 * (np.arctan(width_b / height_b) - np.arctan(width_a / height_a)) ** 2
            with np.errstate(divide="ignore", invalid="ignore"):
                weight = np.where(aspect_gap > 0, aspect_gap / (1 - iou + aspect_gap), 0.0)
            similarity = similarity - weight * aspect_gap
    return (similarity + 1) / 2.0


def _first_matching(observed: np.ndarray, predicted: np.ndarray, back: np.ndarray, direction: np.ndarray,
                    iou_threshold: float, inertia: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The original's `associate`: (K, 2) matched (detection, track) rows, and the detections and tracks left.

    The rows left are those no pair took, ascending, then those of pairs undone for low IoU in pair order; new
    tracks (and their ids) follow this order when OCR changes nothing.
    """
    iou = iou_matrix(observed[:, :4], predicted)
    if iou.size == 0:
        pairs = np.zeros((0, 2), np.int64)
    else:
        above = iou > iou_threshold
        if above.sum(axis=1).max() == 1 and above.sum(axis=0).max() == 1:
            pairs = np.argwhere(above)
        else:
            pairs = np.stack(solve_assignment(-(iou + _momentum(observed, back, direction, inertia))), axis=1)
    weak = iou[pairs[:, 0], pairs[:, 1]] < iou_threshold
    left_dets = np.concatenate([np.setdiff1d(np.arange(len(observed)), pairs[:, 0]), pairs[weak, 0]])
    left_tracks = np.concatenate([np.setdiff1d(np.arange(len(predicted)), pairs[:, 1]), pairs[weak, 1]])
    return pairs[~weak], left_dets.astype(np.int64), left_tracks.astype(np.int64)


def _momentum(observed: np.ndarray, back: np.ndarray, direction: np.ndarray, inertia: float) -> np.ndarray:
    """(D, T) OCM bonus: inertia x detection score x (pi/2 - angle) / pi, the angle between each track's
    direction and the direction from its observation delta_t frames back to the detection; 0 for a track never
    observed."""
    dy, dx = _unit_direction(back[:, None, :4], observed[None, :, :4])  # (T, D)
    cosine = np.clip(direction[:, 1:2] * dx + direction[:, 0:1] * dy, -1, 1)
    agreement = (np.pi / 2.0 - np.abs(np.arccos(cosine))) / np.pi
    observed_before = back[:, 4:5] >= 0
    return ((observed_before * agreement) * inertia).T * observed[:, 4:5]


def _unit_direction(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dy, dx): the unit vector from the centres of `start` boxes to those of `end` boxes (broadcast), with the
    original's +1e-6 on the length so that equal centres give 0."""
    dx = (end[..., 0] + end[..., 2]) / 2.0 - (start[..., 0] + start[..., 2]) / 2.0
    dy = (end[..., 1] + end[..., 3]) / 2.0 - (start[..., 1] + start[..., 3]) / 2.0
    length = np.sqrt(dx**2 + dy**2) + _EPS
    return dy / length, dx / length


def _measurement(xyxy: np.ndarray) -> np.ndarray:
    """(N, 4) boxes -> the xysr measurements OC-SORT feeds its filter: SORT's, with the aspect w / (h + 1e-6)."""
    measurement = kalman_xysr.xyxy_to_xysr(xyxy)
    measurement[:, 3] = (xyxy[:, 2] - xyxy[:, 0]) / (xyxy[:, 3] - xyxy[:, 1] + _EPS)
    return measurement


def _re_update(mean: np.ndarray, covariance: np.ndarray, start: np.ndarray, end: np.ndarray,
               gap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ORU of B tracks: from each posterior at its last observation (`start`, (B, 4) xysr), predict and update
    through `gap` virtual measurements moving the centre, width and height linearly to `end`, one a frame.

    Returns the (B, 7), (B, 7, 7) states before the real update with `end`, and the (B, 4) last virtual
    measurements, as the original's `unfreeze` leaves them (its first predict is the tracker's, which stops a
    shrinking area; the others are the filter's own, which do not).
    """
    start_size = np.stack([np.sqrt(start[:, 2] * start[:, 3]), np.sqrt(start[:, 2] / start[:, 3])], axis=1)
    end_size = np.stack([np.sqrt(end[:, 2] * end[:, 3]), np.sqrt(end[:, 2] / end[:, 3])], axis=1)
    centre_step = (end[:, :2] - start[:, :2]) / gap[:, None]
    size_step = (end_size - start_size) / gap[:, None]
    virtual = np.zeros_like(start)
    mean, covariance = kalman_xysr.predict(mean, covariance)
    for step in range(1, int(gap.max()) + 1):
        active = np.flatnonzero(gap >= step)
        if step > 1:
            mean[active], covariance[active] = kalman_predict(mean[active], covariance[active], kalman_xysr.MOTION,
                                                              kalman_xysr.PROCESS_NOISE)
        centre = start[active, :2] + step * centre_step[active]
        size = start_size[active] + step * size_step[active]
        virtual[active] = np.column_stack([centre, size[:, 0] * size[:, 1], size[:, 0] / size[:, 1]])
        mean[active], covariance[active] = kalman_update(mean[active], covariance[active], virtual[active],
                                                         kalman_xysr.OBSERVATION, kalman_xysr.MEASUREMENT_NOISE)
    return mean, covariance, virtual
