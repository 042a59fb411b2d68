"""Every associator over synthetic 1080p crowds, ours beside the original implementations: speed and MOTA / IDF1.

Detections are made first (ground truth degraded by `OracleDetector`: 3 % jitter, 10 % misses, one false positive a
frame; appearance features = a unit vector per identity plus noise, random ones for false positives) and only the
association step is timed, one frame at a time, on one BLAS thread (see ../shared/reference/FACTS.md: threaded BLAS
makes these small matrices erratically slow). Each original runs from its own checkout through the drivers in
`evaluation/reference/`; its ids are compared with ours frame by frame.

    OPENBLAS_NUM_THREADS=1 python evaluation/association_benchmark.py --objects 10 50 200 --frames 1000 \
        --sort /path/to/abewley/sort --deep-sort /path/to/nwojke/deep_sort --byte-track /path/to/ByteTrack \
        --oc-sort /path/to/OC_SORT [--json evaluation/results/association_benchmark.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from machine import describe_machine, describe_run, describe_software  # noqa: E402

from videoanalyst.core.detections import Detections  # noqa: E402
from videoanalyst.core.packet import DETECTIONS, FramePacket  # noqa: E402
from videoanalyst.core.stage import StreamInfo  # noqa: E402
from videoanalyst.detectors.oracle_detector import OracleDetector  # noqa: E402
from videoanalyst.evaluators.mot import COMBINED, evaluate_sequences, match_sequence  # noqa: E402
from videoanalyst.pipeline.registry import resolve  # noqa: E402
from videoanalyst.synthetic.scene import Scene, SceneConfig  # noqa: E402

WIDTH, HEIGHT = 1920, 1080
EMBEDDING_DIM = 128
WARM_UP_FRAMES = 20


@dataclass
class Case:
    """One synthetic crowd: ground truth and detections (with embeddings) of every frame."""

    num_objects: int
    truth: list[Detections]
    detections: list[Detections]


def make_case(num_objects: int, num_frames: int, seed: int = 0, feature_noise: float = 0.3) -> Case:
    """A 1920x1080 scene of `num_objects` moving, occluding boxes and its noisy detections with features."""
    scene = Scene(SceneConfig(width=WIDTH, height=HEIGHT, num_frames=num_frames, num_objects=num_objects,
                              size_range=(0.08, 0.25), seed=seed))
    detector = OracleDetector(keep_identities=True, seed=seed)
    detector.reset(StreamInfo(f"crowd-{num_objects}", WIDTH, HEIGHT))
    rng = np.random.default_rng(seed)
    identity_features = rng.normal(size=(num_objects + 1, EMBEDDING_DIM))
    truth, detections = [], []
    for index in range(num_frames):
        frame_truth = scene.ground_truth(index)
        frame_truth = frame_truth.replace(extra={**frame_truth.extra, "consider": np.ones(len(frame_truth), np.int64)})
        found = detector.detect(frame_truth, WIDTH, HEIGHT)
        features = np.where((found.track_ids > 0)[:, None], identity_features[np.maximum(found.track_ids, 0)],
                            rng.normal(size=(len(found), EMBEDDING_DIM)) * 3)
        features = features + rng.normal(scale=feature_noise, size=features.shape)
        features /= np.linalg.norm(features, axis=1, keepdims=True)
        truth.append(frame_truth)
        detections.append(found.replace(track_ids=np.full(len(found), -1), embeddings=features))
    return Case(num_objects, truth, detections)


def run_ours(name: str, case: Case) -> tuple[list[Detections], float]:
    """Our stage `name` (its defaults) over the case: (tracks of every frame, seconds spent in `process`).

    The stage first runs untimed over the case's first `WARM_UP_FRAMES` frames in a stream of its own, so that
    one-time costs (numba loading SORT's compiled frame from its cache, or compiling it) do not count per frame."""
    stage = resolve("stage", name)()
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    stage.reset(StreamInfo("warm-up", WIDTH, HEIGHT))
    for index, detections in enumerate(case.detections[:WARM_UP_FRAMES]):
        packet = FramePacket("warm-up", index, index / 25, image)
        packet.outputs[DETECTIONS] = detections
        stage.process(packet)
    stage.reset(StreamInfo(f"crowd-{case.num_objects}", WIDTH, HEIGHT, num_frames=len(case.detections)))
    packets = []
    for index, detections in enumerate(case.detections):
        packet = FramePacket(f"crowd-{case.num_objects}", index, index / 25, image)
        packet.outputs[DETECTIONS] = detections
        packets.append(packet)
    seconds = 0.0
    for packet in packets:
        start = time.perf_counter()
        stage.process(packet)
        seconds += time.perf_counter() - start
    return [packet.outputs[DETECTIONS] for packet in packets], seconds


def scores(case: Case, tracks: Sequence[Detections]) -> dict[str, float]:
    """MOTA, IDF1 and HOTA of the tracks against the case's ground truth (motmetrics / TrackEval definitions)."""
    row = evaluate_sequences({"crowd": match_sequence(case.truth, list(tracks))})[COMBINED]
    return {"MOTA": row["MOTA"], "IDF1": row["IDF1"], "HOTA": row["HOTA"]}


def identical(ours: Sequence[Detections], reference: Sequence[Detections]) -> tuple[bool, float]:
    """Whether both give the same ids on the same frames, and the largest box difference between them (px)."""
    worst = 0.0
    for mine, theirs in zip(ours, reference, strict=True):
        if sorted(mine.track_ids.tolist()) != sorted(theirs.track_ids.tolist()):
            return False, float("inf")
        a, b = mine[np.argsort(mine.track_ids)], theirs[np.argsort(theirs.track_ids)]
        if len(a):
            worst = max(worst, float(np.abs(a.xyxy.astype(np.float64) - b.xyxy).max()))
    return True, worst


ReferenceRunner = Callable[[Path, Case], tuple[list[Detections], float]]
DRIVERS = Path(__file__).parent / "reference"


def _driver(name: str) -> types.ModuleType:
    """A reference driver of `evaluation/reference/`, imported from its file (evaluation/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"driver_{name}", DRIVERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _tracks(rows: np.ndarray) -> Detections:
    """(K, 5) x1, y1, x2, y2, id rows, as the originals return them."""
    rows = np.asarray(rows, np.float64).reshape(-1, 5)
    return Detections(xyxy=rows[:, :4], track_ids=rows[:, 4].astype(np.int64))


def run_original_sort(checkout: Path, case: Case) -> tuple[list[Detections], float]:
    """abewley/sort's `Sort.update` with its defaults (max_age 1, min_hits 3, IoU 0.3), timed per call."""
    driver = _driver("abewley_sort")
    frames = [np.concatenate([d.xyxy, d.scores[:, None]], axis=1).astype(np.float64) for d in case.detections]
    outputs, seconds = driver.run_original(driver.import_original(checkout), frames)
    return [_tracks(rows) for rows in outputs], float(seconds.sum())


def run_original_deep_sort(checkout: Path, case: Case) -> tuple[list[Detections], float]:
    """nwojke/deep_sort's `Tracker` with deep_sort_app's per-frame steps and its MOT16 settings, timed per frame."""
    driver = _driver("nwojke_deep_sort")
    outputs, seconds = driver.run_reference(checkout, case.detections, driver.SETTINGS)
    tracks = [Detections(xyxy=boxes, track_ids=ids) for ids, boxes in outputs]
    return tracks, float(seconds[0]) * len(case.detections)


def run_original_byte_track(checkout: Path, case: Case) -> tuple[list[Detections], float]:
    """ifzhang/ByteTrack's `BYTETracker.update` with its MOT17 defaults, timed per call."""
    driver = _driver("ifzhang_bytetrack")
    run = driver.run_original(driver.import_original(checkout),
                              driver.Case(WIDTH, HEIGHT, case.truth, case.detections))
    return [Detections(xyxy=boxes, track_ids=t.track_ids) for boxes, t in zip(run.boxes, run.tracks)], run.seconds


def run_original_oc_sort(checkout: Path, case: Case) -> tuple[list[Detections], float]:
    """noahcao/OC_SORT's `OCSort.update` (det_thresh 0.6, its other defaults), timed per call."""
    reference = _driver("noahcao_ocsort").Reference(checkout)
    reference.module.KalmanBoxTracker.count = 0
    reference._assign.threshold = 0.3
    tracker = reference.module.OCSort(det_thresh=0.6)
    outputs, seconds = [], 0.0
    for detections in case.detections:
        rows = np.concatenate([detections.xyxy, detections.scores[:, None]], axis=1).astype(np.float64)
        start = time.perf_counter()
        result = tracker.update(rows, (HEIGHT, WIDTH), (HEIGHT, WIDTH))
        seconds += time.perf_counter() - start
        outputs.append(_tracks(result))
    return outputs, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--associators", nargs="+", choices=list(REFERENCES), default=list(REFERENCES))
    for name in REFERENCES:
        parser.add_argument(f"--{name.replace('_', '-')}", type=Path, help=f"checkout of the original {name}")
    parser.add_argument("--json", type=Path, default=Path("evaluation/results/association_benchmark.json"))
    args = parser.parse_args(argv)
    print(f"machine: {describe_machine()}, {platform.platform()}\nsoftware: {describe_software()}", flush=True)
    rows = []
    for num_objects in args.objects:
        case = make_case(num_objects, args.frames, args.seed)
        for name in args.associators:
            runner = REFERENCES[name]
            tracks, seconds = run_ours(name, case)
            row = {"objects": num_objects, "associator": name, "ours_ms": 1000 * seconds / args.frames,
                   **{f"ours_{k}": v for k, v in scores(case, tracks).items()}}
            checkout = getattr(args, name)
            if checkout is not None:
                reference, reference_seconds = runner(checkout, case)
                same, max_px = identical(tracks, reference)
                row.update(reference_ms=1000 * reference_seconds / args.frames,
                           speedup=reference_seconds / seconds, identical=same, max_box_px=max_px,
                           **{f"reference_{k}": v for k, v in scores(case, reference).items()})
            rows.append(row)
            print(_format_row(row), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({**describe_run(), "platform": platform.platform(), "command": " ".join(sys.argv),
                                     "frames": args.frames, "rows": rows}, indent=1))
    return 0


def _format_row(row: dict) -> str:
    text = (f"{row['associator']:<10} {row['objects']:>4} objects  ours {row['ours_ms']:7.3f} ms/frame  "
            f"MOTA {100 * row['ours_MOTA']:6.2f}  IDF1 {100 * row['ours_IDF1']:6.2f}")
    if "reference_ms" in row:
        text += (f" | original {row['reference_ms']:7.3f} ms/frame  MOTA {100 * row['reference_MOTA']:6.2f}  "
                 f"IDF1 {100 * row['reference_IDF1']:6.2f} | x{row['speedup']:.1f}  identical {row['identical']} "
                 f"(max {row['max_box_px']:.1e} px)")
    return text


REFERENCES: dict[str, ReferenceRunner] = {
    "sort": run_original_sort,
    "deep_sort": run_original_deep_sort,
    "byte_track": run_original_byte_track,
    "oc_sort": run_original_oc_sort,
}

if __name__ == "__main__":
    raise SystemExit(main())
