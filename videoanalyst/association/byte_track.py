"""ByteTrack: high-score detections are matched to the tracks first, then the low-score ones to the tracks left over.

The algorithm of ifzhang/ByteTrack (commit d1bf019, `yolox/tracker/byte_tracker.py`: `BYTETracker.update`,
`remove_duplicate_stracks`; `yolox/tracker/matching.py`: `iou_distance`, `fuse_score`, `linear_assignment`), step
for step, with the tracks held in arrays instead of one `STrack` object each and the Kalman steps batched
(`kalman_xyah`, the same model and constants as its `kalman_filter.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from videoanalyst.association import kalman_xyah
from videoanalyst.association.associator import Associator
from videoanalyst.association.matching import iou_matrix, solve_assignment
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import FramePacket
from videoanalyst.errors import ConfigError

#: Added to x2, y2 so that IoU counts inclusive pixels, as the original's `cython_bbox.bbox_overlaps` does:
#: width = x2 - x1 + 1.
_INCLUSIVE_PIXEL = np.array([0.0, 0.0, 1.0, 1.0])


@dataclass
class _Tracks:
    """Every live track, one row each, in the original's list order: its tracked list, then its lost list."""

    mean: np.ndarray  # (N, 8) float64 Kalman state: centre x, centre y, aspect, height, and their velocities
    covariance: np.ndarray  # (N, 8, 8) float64
    ids: np.ndarray  # (N,) int64
    scores: np.ndarray  # (N,) float64, of the last matched detection
    class_ids: np.ndarray  # (N,) int64, of the last matched detection
    first_frame: np.ndarray  # (N,) int64 frame number the track started on (the original's start_frame)
    last_frame: np.ndarray  # (N,) int64 frame number of its last matched detection (the original's frame_id)
    lost: np.ndarray  # (N,) bool: unmatched since last_frame
    confirmed: np.ndarray  # (N,) bool: matched after its first frame, or started on frame 1 (is_activated)
    expired: np.ndarray  # (N,) bool: once lost for longer than the buffer (its id is in the original's removed list)

    @staticmethod
    def empty() -> _Tracks:
        return _Tracks(np.zeros((0, 8)), np.zeros((0, 8, 8)), *(np.zeros(0, dtype) for dtype in (
            np.int64, np.float64, np.int64, np.int64, np.int64, bool, bool, bool)))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: np.ndarray) -> _Tracks:
        return _Tracks(*(getattr(self, field.name)[index] for field in fields(self)))

    def append(self, other: _Tracks) -> _Tracks:
        return _Tracks(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)))


class ByteTrack(Associator):
    """ByteTrack (Zhang et al., ECCV 2022) with the original's arguments, defaults and order of operations.

    Each detector frame: the confirmed tracks (tracked and lost) predict one frame ahead, a lost track with its
    height velocity set to 0. Detections scoring above `track_threshold` are matched to them (cost 1 - IoU, times
    the score with `fuse_score`; lapjv, pairs costing more than `match_threshold` never made), a lost track that
    matches being found again. The tracked tracks left over are matched to the detections scoring above
    `low_threshold` and below `track_threshold` (cost 1 - IoU, `low_match_threshold`); those still unmatched are
    lost. Tracks started on the previous frame (unconfirmed, not predicted) are matched to the high detections
    left (`unconfirmed_match_threshold`) and deleted when unmatched; each high detection still left that scores at
    least `new_track_threshold` starts a track, confirmed at once on the stream's first frame only. A lost track
    is deleted after more than `track_buffer * frame_rate / 30` frames; a tracked and a lost track closer than
    `duplicate_threshold` (1 - IoU) are one object twice, and the one tracked for fewer frames is dropped. Reported:
    the confirmed tracks matched this frame, box = Kalman posterior, score and class of the matched detection.
    Ids start at 1 per stream and count every track started, reported or not (as the original's, ids have gaps).

    Exactly as the original (both rules are its list bookkeeping): a lost track past its buffer stays one more frame,
    open to the first association only; a track found again in that frame is deleted as soon as it is lost again.
    IoU counts inclusive pixels (width x2 - x1 + 1), as its `cython_bbox` does. Matching ignores classes, as the
    original's does.

    Frame counts (`track_buffer`, the first frame) count detector frames: a frame the detector skipped (`predict`)
    advances the confirmed tracks' motion one frame and reports the predicted boxes of the tracked ones, with the
    score and class of their last detection; it counts no miss and ages nothing.

    Args:
        track_threshold: detections scoring above it take part in the first association and may start tracks.
            Raising it leaves more detections to the second association only (tracks continue on them, but no
            track starts from them); lowering it lets weak detections, false ones among them, start tracks.
        low_threshold: detections scoring above it (and below `track_threshold`) are offered to the tracked
            tracks the first association left unmatched; lower ones are ignored. Lowering it keeps tracks through
            occlusions on weaker boxes but lets false detections extend tracks.
        new_track_threshold: least score of a detection to start a track (the original: track_threshold + 0.1).
            Raising it starts fewer tracks from false detections, and later ones for real objects.
        match_threshold: highest cost of a first-association pair (1 - IoU, times the detection score when
            `fuse_score`). Raising it accepts looser matches (fast objects keep their ids, neighbours may swap);
            lowering it refuses them (more new ids).
        low_match_threshold: highest cost (1 - IoU) of a second-association pair, low-score detections to tracks.
            Raising it lets low-score boxes further from the prediction continue a track.
        unconfirmed_match_threshold: highest cost of a pair between a track started on the previous frame and a
            detection. Raising it confirms more new tracks (also those of jittery false detections).
        duplicate_threshold: a tracked and a lost track whose boxes are closer than this (1 - IoU) are taken for one
            object, and the younger of the two is dropped. Raising it merges tracks of objects that are near.
        track_buffer: detector frames a lost track is kept (at `frame_rate` 30) to be found again. Raising it
            bridges longer occlusions (fewer new ids) at the risk of a stale track taking another object's box;
            memory grows with the number of lost tracks kept.
        frame_rate: frames per second the video was shot at; the buffer is int(frame_rate / 30 * track_buffer)
            frames, so that it lasts the same time at any rate.
        fuse_score: multiply the IoU by the detection score in the first and unconfirmed associations (the original
            turns this off for MOT20, `--mot20`). It makes confident detections win the assignment.
    """

    def __init__(self, track_threshold: float = 0.5, low_threshold: float = 0.1, new_track_threshold: float = 0.6,
                 match_threshold: float = 0.8, low_match_threshold: float = 0.5,
                 unconfirmed_match_threshold: float = 0.7, duplicate_threshold: float = 0.15, track_buffer: int = 30,
                 frame_rate: float = 30.0, fuse_score: bool = True) -> None:
        costs = (match_threshold, low_match_threshold, unconfirmed_match_threshold, duplicate_threshold)
        if not 0 <= low_threshold <= track_threshold or track_buffer < 0 or frame_rate <= 0 or min(costs) < 0:
            raise ConfigError(f"byte_track: need 0 <= low_threshold <= track_threshold, track_buffer >= 0, "
                              f"frame_rate > 0 and the match and duplicate thresholds >= 0; got low_threshold="
                              f"{low_threshold}, track_threshold={track_threshold}, track_buffer={track_buffer}, "
                              f"frame_rate={frame_rate}, thresholds {costs}")
        self.track_threshold = track_threshold
        self.low_threshold = low_threshold
        self.new_track_threshold = new_track_threshold
        self.match_threshold = match_threshold
        self.low_match_threshold = low_match_threshold
        self.unconfirmed_match_threshold = unconfirmed_match_threshold
        self.duplicate_threshold = duplicate_threshold
        self.track_buffer = track_buffer
        self.frame_rate = frame_rate
        self.fuse_score = fuse_score
        self.max_frames_lost = int(frame_rate / 30.0 * track_buffer)
        self.start()

    def start(self) -> None:
        self._tracks = _Tracks.empty()
        self._frame = 0  # detector frames seen, the first numbered 1
        self._next_id = 1

    def update(self, detections: Detections, packet: FramePacket) -> Detections:
        self._frame += 1
        tracks = self._tracks
        boxes = detections.xyxy.astype(np.float64)
        scores = detections.scores.astype(np.float64)
        high = np.flatnonzero(scores > self.track_threshold)
        low = np.flatnonzero((scores > self.low_threshold) & (scores < self.track_threshold))
        pool = np.flatnonzero(tracks.confirmed)
        self._advance(pool)
        track_boxes = kalman_xyah.xyah_to_xyxy(tracks.mean)

        # First association: high-score detections to the confirmed tracks, tracked and lost.
        rows, cols = self._associate(track_boxes[pool], boxes[high], scores[high], self.match_threshold)
        first = pool[rows], high[cols]
        high_left = np.delete(high, cols)
        # Second association: low-score detections to the tracked tracks left; those still left are lost.
        tracked_left = np.delete(pool, rows)
        tracked_left = tracked_left[~tracks.lost[tracked_left]]
        rows, cols = self._associate(track_boxes[tracked_left], boxes[low], None, self.low_match_threshold)
        second = tracked_left[rows], low[cols]
        newly_lost = np.delete(tracked_left, rows)
        # Tracks started on the previous frame (unconfirmed) to the high-score detections left.
        unconfirmed = np.flatnonzero(~tracks.confirmed)
        rows, cols = self._associate(track_boxes[unconfirmed], boxes[high_left], scores[high_left],
                                     self.unconfirmed_match_threshold)
        third = unconfirmed[rows], high_left[cols]
        births = np.delete(high_left, cols)
        births = births[scores[births] >= self.new_track_threshold]

        was_lost = tracks.lost.copy()
        matched, matched_detections = (np.concatenate(parts) for parts in zip(first, second, third))
        self._correct(matched, boxes[matched_detections], scores[matched_detections],
                      detections.class_ids[matched_detections])
        tracks.lost[newly_lost] = True
        found = np.zeros(len(tracks), bool)
        found[matched] = True
        # Deleted: unmatched unconfirmed tracks, and lost tracks that outlived the buffer on an earlier frame.
        gone = tracks.lost & tracks.expired
        gone[unconfirmed[~found[unconfirmed]]] = True
        tracks.expired |= was_lost & (self._frame - tracks.last_frame > self.max_frames_lost)

        # The original's list order: tracked (kept, new, found again), then lost (kept, newly lost).
        still_tracked, still_lost = ~tracks.lost & ~gone, tracks.lost & ~gone
        tracked_rows = np.concatenate([np.flatnonzero(~was_lost & still_tracked),
                                       len(tracks) + np.arange(len(births)), np.flatnonzero(was_lost & found)])
        lost_rows = np.concatenate([np.flatnonzero(was_lost & still_lost), np.flatnonzero(~was_lost & still_lost)])
        if len(births):
            tracks = tracks.append(self._start_tracks(boxes[births], scores[births],
                                                      detections.class_ids[births]))
        tracked_rows, lost_rows = self._without_duplicates(tracks, tracked_rows, lost_rows)
        order = np.concatenate([tracked_rows, lost_rows])
        if len(order) != len(tracks) or (order != np.arange(len(order))).any():
            tracks = tracks[order]
        self._tracks = tracks
        return self._report(np.flatnonzero(tracks.confirmed[:len(tracked_rows)]))

    def predict(self, packet: FramePacket) -> Detections:
        tracks = self._tracks
        self._advance(np.flatnonzero(tracks.confirmed))
        return self._report(np.flatnonzero(tracks.confirmed & ~tracks.lost))

    def _advance(self, rows: np.ndarray) -> None:
        """Predict the tracks `rows` one frame ahead; a lost track's height velocity is zeroed first."""
        tracks = self._tracks
        mean = tracks.mean[rows]
        mean[tracks.lost[rows], 7] = 0.0
        tracks.mean[rows], tracks.covariance[rows] = kalman_xyah.predict(mean, tracks.covariance[rows])

    def _associate(self, track_boxes: np.ndarray, boxes: np.ndarray, scores: np.ndarray | None,
                   threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(track rows, detection rows) of the least-cost assignment, no pair costing more than `threshold`.

        Cost 1 - IoU, or with `scores` (and `fuse_score`) 1 - IoU * score, computed as the original does.
        """
        if len(track_boxes) == 0 or len(boxes) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        cost = 1.0 - iou_matrix(track_boxes + _INCLUSIVE_PIXEL, boxes + _INCLUSIVE_PIXEL)
        if scores is not None and self.fuse_score:
            cost = 1.0 - (1.0 - cost) * scores
        return solve_assignment(cost, threshold)

    def _correct(self, rows: np.ndarray, boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray) -> None:
        """The tracks `rows` matched these detections this frame: Kalman update; they are tracked and confirmed."""
        if len(rows) == 0:
            return
        tracks = self._tracks
        tracks.mean[rows], tracks.covariance[rows] = kalman_xyah.update(tracks.mean[rows], tracks.covariance[rows],
                                                                        boxes)
        tracks.scores[rows] = scores
        tracks.class_ids[rows] = class_ids
        tracks.last_frame[rows] = self._frame
        tracks.lost[rows] = False
        tracks.confirmed[rows] = True

    def _start_tracks(self, boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray) -> _Tracks:
        """New tracks with the next ids; confirmed at once on the stream's first frame only."""
        count = len(boxes)
        mean, covariance = kalman_xyah.initiate(boxes)
        ids = np.arange(self._next_id, self._next_id + count)
        self._next_id += count
        frames = np.full(count, self._frame)
        flags = np.zeros(count, bool)
        return _Tracks(mean, covariance, ids, scores, class_ids, frames, frames.copy(), flags,
                       np.full(count, self._frame == 1), flags.copy())

    def _without_duplicates(self, tracks: _Tracks, tracked_rows: np.ndarray,
                            lost_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drop one of each tracked and lost track pair closer than `duplicate_threshold`: the one tracked for fewer
        frames (last_frame - first_frame), the tracked one on a tie."""
        if len(tracked_rows) == 0 or len(lost_rows) == 0:
            return tracked_rows, lost_rows
        boxes = kalman_xyah.xyah_to_xyxy(tracks.mean) + _INCLUSIVE_PIXEL
        duplicate = 1.0 - iou_matrix(boxes[tracked_rows], boxes[lost_rows]) < self.duplicate_threshold
        if not duplicate.any():
            return tracked_rows, lost_rows
        age = tracks.last_frame - tracks.first_frame
        tracked_older = age[tracked_rows][:, None] > age[lost_rows][None, :]
        return (tracked_rows[~(duplicate & ~tracked_older).any(axis=1)],
                lost_rows[~(duplicate & tracked_older).any(axis=0)])

    def _report(self, rows: np.ndarray) -> Detections:
        """Boxes (Kalman means as corners), ids and the last matched detection's score and class of the tracks."""
        tracks = self._tracks
        return Detections(xyxy=kalman_xyah.xyah_to_xyxy(tracks.mean[rows]), scores=tracks.scores[rows],
                          class_ids=tracks.class_ids[rows], track_ids=tracks.ids[rows])
