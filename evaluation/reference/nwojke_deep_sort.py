"""Run nwojke/deep_sort (unmodified, imported from --reference) and our `DeepSort` on the same synthetic detections
and appearance features; report whether frames and ids are identical, the largest box difference, MOTA / IDF1 and
ms a frame of each; or write the test fixtures of tests/association/data/deep_sort_*.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python evaluation/reference/nwojke_deep_sort.py \
        --reference /tmp/ref/deep_sort compare --objects 10 50 200 --frames 300
    PYTHONPATH=. python evaluation/reference/nwojke_deep_sort.py \
        --reference /tmp/ref/deep_sort fixtures --out tests/association/data

Detections come from `OracleDetector` on a `Scene`; a true box's feature is its object's random unit vector plus
Gaussian noise, a false positive's a fresh random vector. The reference runs as `deep_sort_app.py`'s frame loop
does (height and confidence filters, `preprocessing.non_max_suppression`, `Tracker.predict`, `Tracker.update`,
results of confirmed tracks updated at most one frame ago), with the same settings as ours.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads BLAS: threaded BLAS makes timings erratic

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from videoanalyst.association import kalman_xyah  # noqa: E402
from videoanalyst.association.deep_sort import DeepSort  # noqa: E402
from videoanalyst.core.detections import Detections  # noqa: E402
from videoanalyst.core.packet import FramePacket  # noqa: E402
from videoanalyst.core.stage import StreamInfo  # noqa: E402
from videoanalyst.detectors.oracle_detector import OracleDetector  # noqa: E402
from videoanalyst.evaluators.mot import COMBINED, evaluate_sequences, match_sequence  # noqa: E402
from videoanalyst.synthetic.scene import Scene, SceneConfig  # noqa: E402

#: The fixture scene: small enough for a < 200 KB text file, with occlusions (the detector misses boxes less than
#: 20 % visible), 10 % random misses, false positives, and objects leaving and re-entering the view.
FIXTURE_SCENE = SceneConfig(width=320, height=240, num_frames=120, num_objects=6, seed=3, speed=0.02)
FIXTURE_FEATURES = {"dim": 8, "noise": 0.3, "seed": 7}
#: deep_sort_app.py's other settings, as evaluate_motchallenge.py runs it (min_confidence 0.3, nn_budget 100).
SETTINGS = {"min_confidence": 0.3, "nms_max_overlap": 1.0, "min_detection_height": 0.0, "max_cosine_distance": 0.2,
            "nn_budget": 100}


def synthetic_frames(config: SceneConfig, dim: int, noise: float, seed: int) -> tuple[list[Detections], Scene]:
    """Oracle detections of every frame with (N, dim) float32 features, and the scene (for the ground truth)."""
    scene = Scene(config)
    detector = OracleDetector(keep_identities=True, seed=seed)
    detector.reset(StreamInfo("synthetic", config.width, config.height))
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(size=(config.num_objects + 1, dim))
    prototypes /= np.linalg.norm(prototypes, axis=1, keepdims=True)
    image = np.zeros((config.height, config.width, 3), np.uint8)
    frames = []
    for index in range(config.num_frames):
        packet = FramePacket("synthetic", index, index / config.fps, image)
        packet.outputs["ground_truth"] = scene.ground_truth(index)
        detector.process(packet)
        detections = packet.outputs["detections"]
        ids = detections.track_ids
        base = np.where((ids > 0)[:, None], prototypes[np.maximum(ids, 0)], rng.normal(size=(len(ids), dim)))
        features = base + rng.normal(0, noise / np.sqrt(dim), (len(ids), dim))
        frames.append(detections.replace(track_ids=np.full(len(ids), -1), embeddings=features.astype(np.float32)))
    return frames, scene


def run_reference(reference: Path, frames: list[Detections], settings: dict) -> tuple[list, np.ndarray]:
    """Per frame (ids, float64 boxes x1, y1, x2, y2) of the reference, and its mean wall and CPU seconds a frame."""
    sys.path.insert(0, str(reference))
    from application_util import preprocessing
    from deep_sort import nn_matching
    from deep_sort.detection import Detection
    from deep_sort.tracker import Tracker

    inputs = []
    for detections in frames:
        xyxy = detections.xyxy.astype(np.float64)
        tlwh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        inputs.append([Detection(box, float(score), feature) for box, score, feature
                       in zip(tlwh, detections.scores, detections.embeddings)])
    metric = nn_matching.NearestNeighborDistanceMetric("cosine", settings["max_cosine_distance"],
                                                       settings["nn_budget"])
    tracker = Tracker(metric)
    outputs, seconds = [], np.zeros(2)
    for detections in inputs:
        start = np.array([time.perf_counter(), time.process_time()])
        detections = [d for d in detections if d.tlwh[3] >= settings["min_detection_height"]
                      and d.confidence >= settings["min_confidence"]]
        boxes = np.array([d.tlwh for d in detections])
        scores = np.array([d.confidence for d in detections])
        indices = preprocessing.non_max_suppression(boxes, settings["nms_max_overlap"], scores)
        tracker.predict()
        tracker.update([detections[i] for i in indices])
        reported = [t for t in tracker.tracks if t.is_confirmed() and t.time_since_update <= 1]
        boxes = [t.to_tlbr() for t in reported]
        seconds += [time.perf_counter(), time.process_time()] - start
        outputs.append((np.array([t.track_id for t in reported], np.int64), np.array(boxes).reshape(-1, 4)))
    return outputs, seconds / len(frames)


def run_ours(frames: list[Detections], settings: dict) -> tuple[list, np.ndarray]:
    """Per frame (ids, float64 boxes x1, y1, x2, y2) of our DeepSort, and its mean wall and CPU seconds a frame."""
    tracker = DeepSort(max_appearance_distance=settings["max_cosine_distance"], nn_budget=settings["nn_budget"],
                       min_confidence=settings["min_confidence"], nms_max_overlap=settings["nms_max_overlap"],
                       min_detection_height=settings["min_detection_height"])
    tracker.reset(StreamInfo("synthetic", 8, 8))
    image = np.zeros((8, 8, 3), np.uint8)
    outputs, seconds = [], np.zeros(2)
    for index, detections in enumerate(frames):
        packet = FramePacket("synthetic", index, 0.0, image)
        start = np.array([time.perf_counter(), time.process_time()])
        tracker.update(detections, packet)
        seconds += [time.perf_counter(), time.process_time()] - start
        outputs.append(tracker.reported_boxes())
    return outputs, seconds / len(frames)


def compare_outputs(ours: list, theirs: list) -> tuple[bool, float]:
    """Whether every frame reports the same ids in the same order, and the largest box difference (px)."""
    same, largest = True, 0.0
    for (our_ids, our_boxes), (their_ids, their_boxes) in zip(ours, theirs, strict=True):
        if not np.array_equal(our_ids, their_ids):
            same = False
            continue
        if len(our_ids):
            largest = max(largest, float(np.abs(our_boxes - their_boxes).max()))
    return same, largest


def mot_metrics(scene: Scene, outputs: list) -> dict[str, float]:
    """MOTA and IDF1 of per-frame (ids, boxes) against the scene's ground truth."""
    truth = [scene.ground_truth(i) for i in range(len(outputs))]
    truth = [t.replace(extra={**t.extra, "consider": np.ones(len(t), np.int64)}) for t in truth]
    predicted = [Detections(boxes, track_ids=ids) for ids, boxes in outputs]
    row = evaluate_sequences({"synthetic": match_sequence(truth, predicted)})[COMBINED]
    return {"MOTA": row["MOTA"], "IDF1": row["IDF1"]}


def compare(args: argparse.Namespace) -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; Python {platform.python_version()}, NumPy "
          f"{np.__version__}. ms/frame: wall (CPU), best of {args.repeats} alternating runs")
    print(f"{'objects':>7} {'frames':>6} {'dets/frame':>10} {'identical':>9} {'max |box diff| px':>17} "
          f"{'MOTA ref/ours':>15} {'IDF1 ref/ours':>15} {'ms/frame ref':>15} {'ms/frame ours':>15}")
    for objects in args.objects:
        config = SceneConfig(width=1920, height=1080, num_frames=args.frames, num_objects=objects, seed=args.seed,
                             size_range=(0.05, 0.2) if objects > 20 else (0.15, 0.4))
        frames, scene = synthetic_frames(config, args.dim, args.noise, args.seed)
        theirs, ours = [], []
        their_seconds, our_seconds = [], []  # (wall, CPU) per run
        for _ in range(args.repeats):  # alternate, keep each one's fastest run
            theirs, seconds = run_reference(args.reference, frames, SETTINGS)
            their_seconds.append(seconds)
            ours, seconds = run_ours(frames, SETTINGS)
            our_seconds.append(seconds)
        same, largest = compare_outputs(ours, theirs)
        their_metrics, our_metrics = mot_metrics(scene, theirs), mot_metrics(scene, ours)
        per_frame = np.mean([len(f) for f in frames])
        print(f"{objects:>7} {args.frames:>6} {per_frame:>10.1f} {str(same):>9} {largest:>17.2e} "
              f"{their_metrics['MOTA']:>7.4f}/{our_metrics['MOTA']:.4f} {their_metrics['IDF1']:>7.4f}/"
              f"{our_metrics['IDF1']:.4f} {_milliseconds(their_seconds):>15} {_milliseconds(our_seconds):>15}")


def _milliseconds(runs: list[np.ndarray]) -> str:
    """'wall (CPU)' ms of the fastest run by wall time."""
    wall, cpu = 1e3 * min(runs, key=lambda seconds: seconds[0])
    return f"{wall:.2f} ({cpu:.2f})"


def write_fixtures(args: argparse.Namespace) -> None:
    """tests/association/data/deep_sort_{detections,reference_tracks}.txt and deep_sort_kalman_steps.json."""
    out = Path(args.out)
    command = (f"PYTHONPATH=. python evaluation/reference/nwojke_deep_sort.py --reference {args.reference} "
               f"fixtures --out {out}")
    frames, scene = synthetic_frames(FIXTURE_SCENE, **FIXTURE_FEATURES)
    theirs, _ = run_reference(args.reference, frames, SETTINGS)
    header = [f"made by: {command}", f"scene: {json.dumps(dataclasses.asdict(FIXTURE_SCENE))}",
              f"features: {json.dumps(FIXTURE_FEATURES)}", f"settings: {json.dumps(SETTINGS)}",
              f"reference metrics: {json.dumps(mot_metrics(scene, theirs))}"]
    rows = []
    for index, detections in enumerate(frames):
        for box, score, class_id, feature in zip(detections.xyxy, detections.scores, detections.class_ids,
                                                 detections.embeddings):
            rows.append(",".join([str(index), *map(str, box), str(score), str(class_id), *map(str, feature)]))
    (out / "deep_sort_detections.txt").write_text(
        "".join(f"# {line}\n" for line in [*header, "frame,x1,y1,x2,y2,score,class_id,feature..."])
        + "\n".join(rows) + "\n")
    rows = [",".join([str(index), str(track_id), *map(repr, box.tolist())])
            for index, (ids, boxes) in enumerate(theirs) for track_id, box in zip(ids, boxes)]
    (out / "deep_sort_reference_tracks.txt").write_text(
        "".join(f"# {line}\n" for line in [*header, "frame,id,x1,y1,x2,y2 (float64, Track.to_tlbr)"])
        + "\n".join(rows) + "\n")
    (out / "deep_sort_kalman_steps.json").write_text(json.dumps(kalman_steps(args.reference, command), indent=1))


def kalman_steps(reference: Path, command: str) -> dict:
    """The reference KalmanFilter on 4 tracks: initiate, predict, update, predict, gating distances."""
    sys.path.insert(0, str(reference))
    from deep_sort.kalman_filter import KalmanFilter

    rng = np.random.default_rng(11)
    corner = rng.uniform(0, 500, (4, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(20, 200, (4, 2))], axis=1)
    measured = boxes + rng.normal(0, 3, boxes.shape)
    candidates = boxes[0] + rng.normal(0, 10, (6, 4))
    kf = KalmanFilter()
    steps = {"initiate": [kf.initiate(xyah) for xyah in kalman_xyah.xyxy_to_xyah(boxes)]}
    steps["predict"] = [kf.predict(*state) for state in steps["initiate"]]
    steps["update"] = [kf.update(*state, xyah) for state, xyah in zip(steps["predict"],
                                                                      kalman_xyah.xyxy_to_xyah(measured))]
    steps["predict_again"] = [kf.predict(*state) for state in steps["update"]]
    xyah = kalman_xyah.xyxy_to_xyah(candidates)
    gating = {f"gating_{name}": [kf.gating_distance(*state, xyah, only_position).tolist()
                                 for state in steps["predict_again"]]
              for name, only_position in (("full", False), ("position", True))}
    return {"made_by": command, "boxes": boxes.tolist(), "measured": measured.tolist(),
            "candidates": candidates.tolist(), **gating,
            **{name: {"mean": [m.tolist() for m, _ in states], "covariance": [c.tolist() for _, c in states]}
               for name, states in steps.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="a nwojke/deep_sort checkout (f08cf1d)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("compare", help="identity, box difference, MOTA / IDF1 and speed on 1920x1080 scenes")
    run.add_argument("--objects", type=int, nargs="+", default=[10, 50, 200])
    run.add_argument("--frames", type=int, default=300)
    run.add_argument("--dim", type=int, default=128, help="feature dimension (mars-small128: 128)")
    run.add_argument("--noise", type=float, default=0.3, help="feature noise norm relative to the unit prototype")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--repeats", type=int, default=2)
    fixtures = commands.add_parser("fixtures", help="write the test fixtures")
    fixtures.add_argument("--out", default="tests/association/data")
    args = parser.parse_args()
    compare(args) if args.command == "compare" else write_fixtures(args)


if __name__ == "__main__":
    main()
