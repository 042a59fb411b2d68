"""Run the original Tracktor (phil-bergmann/tracking_wo_bnw, commit 446abc7, src/tracktor/tracker.py `Tracker`)
and ours on the same synthetic stream, with the same stand-in networks, and compare their tracks.

What is compared is the association: the order of align, regress, end, NMS, detection filtering, ReID and new
tracks. Both trackers get the same two stand-ins for their networks, defined here:
  - `guided_regression` in place of the Faster R-CNN box head: each box moves half way to the ground-truth box it
    overlaps most (IoU > 0.3, objects at least half visible), scoring 0.5 + IoU / 2, else stays and scores 0.25;
  - `embedding` in place of the ReID network: the one-hot id of the ground-truth object a box overlaps most, plus a
    small term that depends on the box, L2-normalised.
Shims on the original's side, all here: `torch.Tensor.cuda` is the identity (it calls `.cuda()` everywhere); the
module `torchreid` is a stand-in whose `metrics.compute_distance_matrix` is torchreid's default (squared Euclidean)
distance; `Tracker.get_appearances` (crop + ReID network) is replaced by the stand-in embedding of the boxes; its
`obj_detect` is an object whose `detect` returns the frame's oracle detections and whose `predict_boxes` is the
stand-in regression. The camera-motion ECC runs on the real frames on both sides (the original on float grey
images, ours on uint8 grey images: the warps differ by ~1e-3 px).

    PYTHONPATH=. python evaluation/reference/phil_bergmann_tracktor.py --reference /tmp/ref/tracking_wo_bnw \\
        compare [--frames 120] [--objects 8] [--seed 0] [--motion-model]
    PYTHONPATH=. python evaluation/reference/phil_bergmann_tracktor.py --reference /tmp/ref/tracking_wo_bnw \\
        fixture --out tests/association/data/tracktor_reference_tracks.txt

Rows (fixture and comparison): frame (0-based), id (the original's + 1: ours start at 1), x1, y1, x2, y2, score.
Known difference: a track re-identified on a frame reports the detection's score there (ours) or its last
regression score, the one that ended it (the original); scores are compared on the rows whose score is not one of
the frame's detection scores (`from_detections`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from videoanalyst.association import tracktor as tracktor_module
from videoanalyst.association.matching import iou_matrix
from videoanalyst.association.tracktor import Tracktor
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.detectors.oracle_detector import OracleDetector
from videoanalyst.synthetic.scene import Scene, SceneConfig

#: The original's settings (experiments/cfgs/tracktor.yaml) except reid_sim_threshold, in our embedding's units.
SETTINGS = dict(detection_person_thresh=0.5, regression_person_thresh=0.5, detection_nms_thresh=0.3,
                regression_nms_thresh=0.6, inactive_patience=50, max_features_num=10, reid_sim_threshold=0.4,
                reid_iou_threshold=0.0, number_of_iterations=100, termination_eps=1e-5)
MOTION_STEPS = 5


@dataclass(frozen=True)
class Case:
    """One synthetic stream: a panning camera over moving objects, seen by an oracle detector."""

    frames: int = 60
    objects: int = 8
    seed: int = 0
    motion_model: bool = False

    def scene(self) -> Scene:
        return Scene(SceneConfig(width=320, height=240, num_frames=self.frames, num_objects=self.objects,
                                 seed=self.seed, camera_pan=True))

    def inputs(self) -> list[tuple[np.ndarray, Detections, Detections]]:
        """Per frame: the image, the ground truth, the oracle detections."""
        scene = self.scene()
        detector = OracleDetector(seed=self.seed)
        detector.reset(StreamInfo("synthetic", 320, 240))
        frames = []
        for index in range(self.frames):
            packet = FramePacket("synthetic", index, index / 25, scene.frame(index))
            packet.outputs[GROUND_TRUTH] = scene.ground_truth(index)
            detector.process(packet)
            frames.append((packet.image, packet.outputs[GROUND_TRUTH], packet.outputs[DETECTIONS]))
        return frames


def guided_regression(truth: Detections, boxes: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The stand-in box head: (N, 4) boxes moved half way to their best-overlapping visible true box, clipped to
    `size` (H, W), and (N,) scores."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    visible = truth.xyxy[truth.extra["visibility"] >= 0.5].astype(np.float64)
    overlap = iou_matrix(boxes, visible)
    best = overlap.max(axis=1) if visible.size else np.zeros(len(boxes))
    target = visible[overlap.argmax(axis=1)] if visible.size else boxes
    found = best > 0.3
    moved = np.where(found[:, None], boxes + 0.5 * (target - boxes), boxes)
    moved = np.clip(moved, 0, [size[1], size[0], size[1], size[0]])
    return moved, np.where(found, 0.5 + 0.5 * best, 0.25)


def embedding(truth: Detections, boxes: np.ndarray, objects: int) -> np.ndarray:
    """The stand-in ReID network: (N, objects + 4) float32 L2-normalised embeddings of (N, 4) boxes."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    identity = np.zeros((len(boxes), objects))
    if len(truth):
        overlap = iou_matrix(boxes, truth.xyxy)
        rows = np.flatnonzero(overlap.max(axis=1) > 0)
        identity[rows, truth.track_ids[overlap[rows].argmax(axis=1)] - 1] = 1
    features = np.concatenate([identity, 0.05 * np.sin(boxes / 7)], axis=1)
    return (features / np.linalg.norm(features, axis=1, keepdims=True)).astype(np.float32)


def run_ours(case: Case) -> np.ndarray:
    """Our Tracktor over the case, its networks replaced by the stand-ins: rows frame, id, x1, y1, x2, y2, score."""
    frames = case.inputs()
    current: dict[str, Detections] = {}

    class StandInReid:
        def to(self, device):
            return self

        def embed(self, image, boxes):
            return torch.from_numpy(embedding(current["truth"], boxes.numpy(), case.objects))

    def regress(model, size, boxes, class_id):
        moved, scores = guided_regression(current["truth"], boxes.numpy(), size)
        return torch.from_numpy(moved), torch.from_numpy(scores)

    saved = {name: getattr(tracktor_module, name) for name in ("regress_boxes", "frame_features", "build_reid")}
    tracktor_module.regress_boxes = regress
    tracktor_module.frame_features = lambda model, image: tuple(image.shape[-2:])
    tracktor_module.build_reid = lambda *args, **kwargs: StandInReid()
    rows = []
    try:
        tracker = Tracktor(detector_weights=None, reid_weights="stand-in", device="cpu", min_size=64, max_size=96,
                           motion_model=case.motion_model, motion_steps=MOTION_STEPS, **SETTINGS)
        tracker.reset(StreamInfo("synthetic", 320, 240))
        for index, (image, truth, detections) in enumerate(frames):
            current["truth"] = truth
            packet = FramePacket("synthetic", index, index / 25, image)
            packet.outputs[DETECTIONS] = detections
            tracker.process(packet)
            tracks = packet.outputs[DETECTIONS]
            rows += [[index, i, *box, s] for i, box, s in zip(tracks.track_ids, tracks.xyxy, tracks.scores)]
    finally:
        for name, value in saved.items():
            setattr(tracktor_module, name, value)
    return np.array(rows, np.float64).reshape(-1, 7)


def import_original(reference: Path) -> type:
    """The original `Tracker` class, with the shims described at the top of this file."""
    source = Path(reference) / "src"
    if not (source / "tracktor" / "tracker.py").is_file():
        raise SystemExit(f"{reference}: no src/tracktor/tracker.py; pass a checkout of phil-bergmann/tracking_wo_bnw")
    torchreid = types.ModuleType("torchreid")
    torchreid.metrics = types.SimpleNamespace(
        compute_distance_matrix=lambda a, b: ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=2))
    sys.modules["torchreid"] = torchreid
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    sys.path.insert(0, str(source))
    return importlib.import_module("tracktor.tracker").Tracker


def run_original(tracker_class: type, case: Case) -> np.ndarray:
    """The original `Tracker.step` over the case, with the stand-ins: rows as `run_ours`."""
    frames = case.inputs()
    current: dict[str, Detections] = {}

    class ObjectDetector:
        def load_image(self, images):
            self.size = tuple(images.shape[-2:])

        def detect(self, images):
            detections = current["detections"]
            return torch.from_numpy(detections.xyxy), torch.from_numpy(detections.scores)

        def predict_boxes(self, boxes):
            moved, scores = guided_regression(current["truth"], boxes.numpy(), self.size)
            return torch.from_numpy(moved).float(), torch.from_numpy(scores).float()

    config = dict(SETTINGS, public_detections=False, do_reid=True, do_align=True, warp_mode="MOTION_EUCLIDEAN",
                  motion_model=dict(enabled=case.motion_model, n_steps=MOTION_STEPS, center_only=False))
    tracker = tracker_class(ObjectDetector(), None, config)
    tracker.get_appearances = lambda blob, pos: torch.from_numpy(
        embedding(current["truth"], pos.reshape(-1, 4).numpy(), case.objects))
    for image, truth, detections in frames:
        current["truth"], current["detections"] = truth, detections
        tracker.step({"img": torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float() / 255})
    rows = [[frame, track_id + 1, *values] for track_id, track in tracker.get_results().items()
            for frame, values in track.items()]
    rows = np.array(rows, np.float64).reshape(-1, 7)
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def from_detections(rows: np.ndarray, case: Case) -> np.ndarray:
    """(R,) bool: the row's score is one of its frame's detection scores (a track started or re-identified there)."""
    scores = [detections.scores for _, _, detections in case.inputs()]
    return np.array([np.float32(score) in scores[int(frame)] for frame, score in rows[:, [0, 6]]], bool)


def compare(ours: np.ndarray, original: np.ndarray, case: Case) -> dict[str, float]:
    """Whether the same ids are reported on the same frames, and the largest box and score differences (scores
    compared where ours is not a detection's score: see the top of this file)."""
    ours = ours[np.lexsort((ours[:, 1], ours[:, 0]))]
    same_rows = ours.shape == original.shape and np.array_equal(ours[:, :2], original[:, :2])
    if not same_rows:
        return {"same_ids_and_frames": False, "rows_ours": len(ours), "rows_original": len(original)}
    regressed = ~from_detections(ours, case)
    return {"same_ids_and_frames": True, "rows": len(ours), "rows_scored_by_detections": int((~regressed).sum()),
            "max_box_difference": float(np.abs(ours[:, 2:6] - original[:, 2:6]).max(initial=0)),
            "max_score_difference": float(np.abs(ours[regressed, 6] - original[regressed, 6]).max(initial=0))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="checkout of phil-bergmann/tracking_wo_bnw")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("compare", help="run both and print the differences")
    fixture = commands.add_parser("fixture", help="write the original's tracks on the default case")
    fixture.add_argument("--out", type=Path, required=True)
    for sub in (run, fixture):
        sub.add_argument("--frames", type=int, default=Case.frames)
        sub.add_argument("--objects", type=int, default=Case.objects)
        sub.add_argument("--seed", type=int, default=Case.seed)
        sub.add_argument("--motion-model", action="store_true")
    args = parser.parse_args(argv)
    case = Case(frames=args.frames, objects=args.objects, seed=args.seed, motion_model=args.motion_model)
    original = run_original(import_original(args.reference), case)
    if args.command == "fixture":
        header = f"frame,id,x1,y1,x2,y2,score of the original Tracktor on {case}"
        np.savetxt(args.out, original, fmt=["%d", "%d"] + ["%.6f"] * 5, delimiter=",", header=header)
        print(f"wrote {len(original)} rows to {args.out}")
        return 0
    print(case, compare(run_ours(case), original, case))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
