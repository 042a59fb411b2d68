"""Tracktor: tracks follow their objects by the detector's own box regression, new tracks come from detections.

Bergmann, Meinhardt, Leal-Taixe, "Tracking without bells and whistles", ICCV 2019; the order of operations is that
of `Tracker.step` in phil-bergmann/tracking_wo_bnw 446abc7, src/tracktor/tracker.py, and the defaults those of its
experiments/cfgs/tracktor.yaml: align the tracks to the camera motion, optionally move them by their mean velocity,
regress them through the Faster R-CNN box head (a track whose person score falls to the threshold ends, NMS ends
the weaker of two tracks that overlap), drop detections a track already covers, re-identify ended tracks by
appearance, start tracks from the detections left.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import get_args

import numpy as np
import torch
from torchvision.ops import nms

from videoanalyst.association.associator import Associator
from videoanalyst.association.camera_motion import WarpMode, estimate_camera_motion, warp_boxes
from videoanalyst.association.matching import iou_matrix, solve_assignment
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import FramePacket
from videoanalyst.errors import ConfigError
from videoanalyst.models.box_regression import FrameFeatures, frame_features, regress_boxes
from videoanalyst.models.device import pick_device
from videoanalyst.models.faster_rcnn import build_faster_rcnn
from videoanalyst.models.reid import Backbone, build_reid


class Tracktor(Associator):
    """Tracktor (with ReID and camera-motion compensation: "Tracktor++") on a torchvision Faster R-CNN.

    New objects come from the frame's `Detections` (a `faster_rcnn` or `public_detections` stage upstream; every
    box given is a candidate, whatever its class); the stage holds its own Faster R-CNN to regress the tracks, and
    runs its backbone once a frame for the tracks and, with `refine_detections`, the detections together. Sharing
    the upstream detector's backbone pass is not done: the two stages may run different weights and input sizes.

    Args:
        detector_weights: weights of the regressing Faster R-CNN, as `build_faster_rcnn` takes them: "coco",
            a state-dict path (the reference uses a MOT17-trained 2-class model), or None (random, for tests).
        num_classes: classes of that model, background included (91 for COCO, 2 for a person-only model).
        class_id: the class whose box deltas move the tracks and whose score keeps them alive; also the class
            id reported on every track (1 = person, in COCO and in the reference's MOT17 model).
        reid_weights: state dict of the `ReidNet` that re-identifies ended tracks; None turns ReID off (ended
            tracks are forgotten at once).
        reid_embedding_dim, reid_backbone: the shape of that `ReidNet`, as `build_reid` takes them.
        detection_person_thresh: detections scoring at most this are ignored; raising it starts fewer (and
            fewer false) tracks.
        regression_person_thresh: a track whose regressed score is at most this ends; raising it ends tracks
            sooner (at occlusions), lowering it keeps tracks drifting onto background longer.
        detection_nms_thresh: detections overlapping each other or a track by more than this IoU are dropped;
            lowering it starts fewer duplicate tracks, and misses more objects close to a tracked one.
        regression_nms_thresh: of two tracks overlapping by more than this IoU after regression, the lower-scored
            ends; lowering it merges more tracks at occlusions.
        refine_detections: regress the incoming boxes through the box head and score them by it before
            thresholding (the reference's public-detections mode; use it with `public_detections` upstream).
        inactive_patience: frames an ended track stays available to ReID; raising it revives tracks after
            longer occlusions, with more chance of a wrong revival.
        max_features_num: appearance features kept a track; its appearance is their mean.
        reid_sim_threshold: largest squared Euclidean distance between a detection's embedding and an ended
            track's mean feature that revives the track; raising it revives more (and more wrongly). The
            reference's 200 is for unnormalised 2048-d torchreid features; ours are L2-normalised (distance
            0..4), and the default 0.4 is a cosine distance of 0.2 to a one-feature gallery.
        reid_iou_threshold: a detection may revive a track only when their IoU is at least this; 0 (the
            reference's) gates nothing.
        do_align: move every track by the camera motion (ECC) between the previous and the current frame
            before regressing it; off for a still camera saves the ECC time.
        warp_mode: the camera motion's freedom: "translation", "euclidean" (the reference's), "affine".
        number_of_iterations, termination_eps: ECC's iteration limit and its convergence step.
        align_scale: estimate the camera motion on frames resized by this factor (< 1 is faster, coarser).
        motion_model: move each track by its mean velocity over its last `motion_steps` frames before regressing
            it (off in the reference's default); helps with low frame rates and fast objects.
        motion_steps: frames over which that velocity is averaged.
        motion_center_only: move only the box centre by the velocity, keeping its size.
        device: where the networks run: "auto" (CUDA when available, else the CPU), "cpu", "cuda", "cuda:1".
        min_size, max_size: the Faster R-CNN's input resize (shorter side, longest side cap); smaller is faster
            and coarser.
    """

    def __init__(self, detector_weights: str | None = "coco", num_classes: int = 91, class_id: int = 1,
                 reid_weights: str | None = None, reid_embedding_dim: int = 128, reid_backbone: Backbone = "resnet50",
                 detection_person_thresh: float = 0.5, regression_person_thresh: float = 0.5,
                 detection_nms_thresh: float = 0.3, regression_nms_thresh: float = 0.6,
                 refine_detections: bool = False, inactive_patience: int = 50, max_features_num: int = 10,
                 reid_sim_threshold: float = 0.4, reid_iou_threshold: float = 0.0, do_align: bool = True,
                 warp_mode: WarpMode = "euclidean", number_of_iterations: int = 100, termination_eps: float = 1e-5,
                 align_scale: float = 1.0, motion_model: bool = False, motion_steps: int = 5,
                 motion_center_only: bool = False, device: str = "auto", min_size: int = 800,
                 max_size: int = 1333) -> None:
        if not 0 <= class_id < num_classes:
            raise ConfigError(f"tracktor: class_id must be in 0..{num_classes - 1}, got {class_id}")
        if inactive_patience < 0 or max_features_num < 1 or motion_steps < 1:
            raise ConfigError("tracktor: need inactive_patience >= 0, max_features_num >= 1, motion_steps >= 1")
        if warp_mode not in get_args(WarpMode) or not 0 < align_scale <= 1:
            raise ConfigError(f"tracktor: warp_mode must be one of {get_args(WarpMode)} and align_scale in (0, 1], "
                              f"got {warp_mode!r} and {align_scale}")
        self.device = pick_device(device, "tracktor: device")
        self.model = build_faster_rcnn(detector_weights, num_classes=num_classes, min_size=min_size,
                                       max_size=max_size).to(self.device)
        self.reid = None if reid_weights is None else build_reid(
            reid_weights, embedding_dim=reid_embedding_dim, backbone=reid_backbone).to(self.device)
        self.class_id = class_id
        self.detection_person_thresh = detection_person_thresh
        self.regression_person_thresh = regression_person_thresh
        self.detection_nms_thresh = detection_nms_thresh
        self.regression_nms_thresh = regression_nms_thresh
        self.refine_detections = refine_detections
        self.inactive_patience = inactive_patience
        self.max_features_num = max_features_num
        self.reid_sim_threshold = reid_sim_threshold
        self.reid_iou_threshold = reid_iou_threshold
        self.do_align = do_align
        self.warp_mode = warp_mode
        self.number_of_iterations = number_of_iterations
        self.termination_eps = termination_eps
        self.align_scale = align_scale
        self.motion_model = motion_model
        self.motion_steps = motion_steps
        self.motion_center_only = motion_center_only

    def start(self) -> None:
        self._active = _Tracks.empty(self.motion_steps + 1, self.max_features_num)
        self._inactive = _Tracks.empty(self.motion_steps + 1, self.max_features_num)
        self._next_id = 1
        self._previous_image: np.ndarray | None = None

    def update(self, detections: Detections, packet: FramePacket) -> Detections:
        return self._step(detections, packet)

    def predict(self, packet: FramePacket) -> Detections:
        """A frame the detector skipped: the tracks still regress on it; no track starts, ended ones age."""
        return self._step(Detections.empty(), packet)

    def _step(self, detections: Detections, packet: FramePacket) -> Detections:
        """One frame of `Tracker.step`, in its order."""
        frame = _LazyFeatures(self.model, packet.tensor(self.device))
        self._active.remember_positions()
        boxes, scores = self._candidates(detections, frame, packet)
        if len(self._active) or len(self._inactive):
            if self.do_align and self._previous_image is not None:
                self._align(packet.image)
            if self.motion_model:
                self._move()
        if len(self._active):
            self._regress(frame)
        boxes, scores = self._uncovered(boxes, scores)
        boxes, scores, embeddings = self._reidentify(boxes, scores, packet)
        self._add(boxes, scores, embeddings)
        self._inactive.inactive_frames += 1
        self._inactive = self._inactive[(self._inactive.inactive_frames <= self.inactive_patience)
                                        & _positive_area(self._inactive.boxes)]
        self._previous_image = packet.image
        active = self._active
        return Detections(xyxy=active.boxes, scores=active.scores, class_ids=np.full(len(active), self.class_id),
                          track_ids=active.ids)

    def _candidates(self, detections: Detections, frame: _LazyFeatures,
                    packet: FramePacket) -> tuple[np.ndarray, np.ndarray]:
        """The detections, refined by the box head if asked, clipped to the image, above the detection threshold."""
        boxes, scores = detections.xyxy.astype(np.float64), detections.scores.astype(np.float64)
        if self.refine_detections and len(boxes):
            boxes, scores = self._regress_boxes(frame, boxes)
        boxes = np.clip(boxes, 0, [packet.width, packet.height, packet.width, packet.height])
        keep = scores > self.detection_person_thresh
        return boxes[keep], scores[keep]

    def _align(self, image: np.ndarray) -> None:
        """Move active tracks, their position history, and ended tracks by the camera motion since last frame."""
        warp = estimate_camera_motion(self._previous_image, image, mode=self.warp_mode,
                                      iterations=self.number_of_iterations, epsilon=self.termination_eps,
                                      scale=self.align_scale)
        for tracks in (self._active, self._inactive):
            tracks.boxes = warp_boxes(tracks.boxes, warp)
            tracks.history = warp_boxes(tracks.history.reshape(-1, 4), warp).reshape(tracks.history.shape)

    def _move(self) -> None:
        """Constant-velocity step: active tracks by their mean velocity over their history, ended ones by the last
        velocity they had; an active track whose box turns empty is dropped."""
        active = self._active
        active.velocity = active.mean_velocity()
        for tracks in (active, self._inactive):
            step = tracks.velocity
            if self.motion_center_only:
                centre = (step[:, :2] + step[:, 2:]) / 2
                step = np.concatenate([centre, centre], axis=1)
            tracks.boxes = tracks.boxes + step
        self._active = active[_positive_area(active.boxes)]

    def _regress(self, frame: _LazyFeatures) -> None:
        """Regress the active tracks; those scoring too low, or suppressed by a better overlapping track, end."""
        boxes, scores = self._regress_boxes(frame, self._active.boxes)
        alive = scores > self.regression_person_thresh
        self._active.boxes[alive] = boxes[alive]
        self._active.scores[alive] = scores[alive]
        kept = np.zeros(len(alive), bool)
        candidates = np.flatnonzero(alive)
        kept[candidates[nms(torch.from_numpy(boxes[candidates]), torch.from_numpy(scores[candidates]),
                            self.regression_nms_thresh).numpy()]] = True
        self._end(~kept)
        if self.reid is not None and len(self._active):
            self._active.add_features(self._embed(frame.image, self._active.boxes))

    def _end(self, ended: np.ndarray) -> None:
        """Active tracks to the ended list, back at the position they had when the frame began (aligned)."""
        if not ended.any():
            return
        tracks = self._active[ended]
        self._active = self._active[~ended]
        if self.reid is None:
            return
        tracks.boxes = tracks.history[:, -1].copy()
        tracks.inactive_frames[:] = 0
        self._inactive = _Tracks.concatenate(self._inactive, tracks)

    def _uncovered(self, boxes: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Detections after NMS among themselves, without those overlapping an active track by more than the
        threshold (the reference's NMS of each track, scored 2, against the detections)."""
        if len(boxes) == 0:
            return boxes, scores
        keep = nms(torch.from_numpy(boxes), torch.from_numpy(scores), self.detection_nms_thresh).numpy()
        boxes, scores = boxes[keep], scores[keep]
        if len(self._active):
            free = (iou_matrix(boxes, self._active.boxes) <= self.detection_nms_thresh).all(axis=1)
            boxes, scores = boxes[free], scores[free]
        return boxes, scores

    def _reidentify(self, boxes: np.ndarray, scores: np.ndarray,
                    packet: FramePacket) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Revive ended tracks that a detection matches in appearance; return the detections left."""
        if self.reid is None or len(boxes) == 0:
            return boxes, scores, None
        embeddings = self._embed(packet.tensor(self.device), boxes)
        inactive = self._inactive
        if len(inactive) == 0:
            return boxes, scores, embeddings
        distance = ((inactive.mean_features()[:, None, :] - embeddings[None, :, :]) ** 2).sum(axis=2)
        if self.reid_iou_threshold > 0:
            distance[iou_matrix(inactive.boxes, boxes) < self.reid_iou_threshold] = np.inf
        rows, cols = solve_assignment(np.minimum(distance, 1e6))
        close = distance[rows, cols] <= self.reid_sim_threshold
        rows, cols = rows[close], cols[close]
        if len(rows):
            revived = inactive[rows]
            revived.boxes = boxes[cols]
            revived.scores = scores[cols].astype(np.float32)
            revived.restart_history()
            revived.inactive_frames[:] = 0
            revived.add_features(embeddings[cols])
            self._active = _Tracks.concatenate(self._active, revived)
            self._inactive = inactive[np.setdiff1d(np.arange(len(inactive)), rows)]
        left = np.setdiff1d(np.arange(len(boxes)), cols)
        return boxes[left], scores[left], embeddings[left]

    def _add(self, boxes: np.ndarray, scores: np.ndarray, embeddings: np.ndarray | None) -> None:
        """Start a track at each detection left."""
        if len(boxes) == 0:
            return
        tracks = _Tracks.create(np.arange(self._next_id, self._next_id + len(boxes)), boxes, scores,
                                self.motion_steps + 1, self.max_features_num)
        if embeddings is not None:
            tracks.add_features(embeddings)
        self._next_id += len(boxes)
        self._active = _Tracks.concatenate(self._active, tracks)

    def _regress_boxes(self, frame: _LazyFeatures, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        regressed, scores = regress_boxes(self.model, frame.features(), torch.from_numpy(boxes), self.class_id)
        return regressed.cpu().double().numpy(), scores.cpu().double().numpy()

    def _embed(self, image: torch.Tensor, boxes: np.ndarray) -> np.ndarray:
        return self.reid.embed(image, torch.from_numpy(boxes).float()).cpu().numpy()


class _LazyFeatures:
    """The frame's backbone features, computed on first use and then shared."""

    def __init__(self, model: torch.nn.Module, image: torch.Tensor) -> None:
        self.model = model
        self.image = image
        self._features: FrameFeatures | None = None

    def features(self) -> FrameFeatures:
        if self._features is None:
            self._features = frame_features(self.model, self.image)
        return self._features


@dataclass
class _Tracks:
    """N tracks as parallel arrays.

    Args:
        ids: (N,) int64 track ids.
        boxes: (N, 4) float64 current positions x1, y1, x2, y2.
        scores: (N,) float32 last regression (or detection) score.
        history: (N, S, 4) positions at the start of the last frames, oldest first (the reference's `last_pos`).
        history_length: (N,) how many of the last history entries are filled, 1..S.
        velocity: (N, 4) last mean velocity of the corners, per frame (zero before the motion model ran).
        features: (N, F, D) ring buffer of appearance features; D is 0 until the first is added.
        feature_count: (N,) features ever added (the slots filled are the first min(count, F)).
        inactive_frames: (N,) frames since the track ended (0 while active).
    """

    ids: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    history: np.ndarray
    history_length: np.ndarray
    velocity: np.ndarray
    features: np.ndarray
    feature_count: np.ndarray
    inactive_frames: np.ndarray

    @classmethod
    def create(cls, ids: np.ndarray, boxes: np.ndarray, scores: np.ndarray, history_size: int,
               max_features: int) -> _Tracks:
        n = len(ids)
        tracks = cls(ids=np.asarray(ids, np.int64), boxes=np.asarray(boxes, np.float64).reshape(n, 4),
                     scores=np.asarray(scores, np.float32), history=np.zeros((n, history_size, 4)),
                     history_length=np.zeros(n, np.int64), velocity=np.zeros((n, 4)),
                     features=np.zeros((n, max_features, 0), np.float32), feature_count=np.zeros(n, np.int64),
                     inactive_frames=np.zeros(n, np.int64))
        tracks.restart_history()
        return tracks

    @classmethod
    def empty(cls, history_size: int, max_features: int) -> _Tracks:
        return cls.create(np.zeros(0), np.zeros((0, 4)), np.zeros(0), history_size, max_features)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: np.ndarray) -> _Tracks:
        return _Tracks(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concatenate(first: _Tracks, second: _Tracks) -> _Tracks:
        """The tracks of both; a side without features (D = 0) is widened to the other's D with zeros."""
        dim = max(first.features.shape[2], second.features.shape[2])
        parts = [_widen_features(first, dim), _widen_features(second, dim)]
        return _Tracks(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(first)})

    def remember_positions(self) -> None:
        """Append the current positions to the history (the oldest entry drops out when it is full)."""
        self.history = np.roll(self.history, -1, axis=1)
        self.history[:, -1] = self.boxes
        self.history_length = np.minimum(self.history_length + 1, self.history.shape[1])

    def restart_history(self) -> None:
        """The history holds the current position alone (new and re-identified tracks)."""
        self.history[:, -1] = self.boxes
        self.history_length[:] = 1

    def mean_velocity(self) -> np.ndarray:
        """(N, 4) mean per-frame displacement over the history: (newest - oldest) / (entries - 1)."""
        steps = np.maximum(self.history_length - 1, 1)
        oldest = self.history[np.arange(len(self)), self.history.shape[1] - np.maximum(self.history_length, 1)]
        return (self.history[:, -1] - oldest) / steps[:, None]

    def add_features(self, features: np.ndarray) -> None:
        """Store one (N, D) feature a track, overwriting the oldest when the buffer is full."""
        if self.features.shape[2] != features.shape[1]:
            self.features = np.zeros((len(self), self.features.shape[1], features.shape[1]), np.float32)
        slots = self.feature_count % self.features.shape[1]
        self.features[np.arange(len(self)), slots] = features
        self.feature_count = self.feature_count + 1

    def mean_features(self) -> np.ndarray:
        """(N, D) mean of each track's stored features."""
        stored = np.minimum(self.feature_count, self.features.shape[1])
        return self.features.sum(axis=1) / np.maximum(stored, 1)[:, None]


def _widen_features(tracks: _Tracks, dim: int) -> _Tracks:
    if tracks.features.shape[2] == dim:
        return tracks
    widened = _Tracks(**{f.name: getattr(tracks, f.name) for f in fields(tracks)})
    widened.features = np.zeros((len(tracks), tracks.features.shape[1], dim), np.float32)
    return widened


def _positive_area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
