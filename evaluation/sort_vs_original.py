"""Our SORT stage against the original (abewley/sort, commit 2236dff) on the same detections: same tracks, speed,
MOTA / IDF1.

Synthetic 1920x1080 scenes of 10, 50 and 200 moving, occluding objects; detections are the ground truth degraded
by `OracleDetector` (3 % jitter, 10 % misses, one false positive a frame), made before anything is timed, with a
detector outage of `OUTAGE_LENGTH` empty frames every `OUTAGE_EVERY` frames (tracks age and die there). Only
association is timed: the original's `Sort.update(dets)` and our stage's `process(packet)` (which includes the
base class's input checks), on one BLAS thread (../shared/reference/FACTS.md). They run in alternating rounds;
a frame's time is its fastest round, which keeps other processes on a shared machine out of the numbers.
Identical means the same (frame, id) pairs on every frame; the box difference is reported to the original's float64
boxes and to those boxes rounded to float32, the dtype of `Detections`.

    OPENBLAS_NUM_THREADS=1 python evaluation/sort_vs_original.py --reference /tmp/ref/sort \
        [--objects 10 50 200] [--frames 1000] [--rounds 3] [--seeds 1 2 3 4] [--json FILE]

`--write-fixture DIR` instead records the original's tracks on the test scene (`FIXTURE_SCENE`) into
DIR/sort_detections.csv and DIR/sort_original.csv for tests/association/test_sort.py.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from videoanalyst.association.sort import Sort  # noqa: E402
from videoanalyst.core.detections import Detections  # noqa: E402
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, FramePacket  # noqa: E402
from videoanalyst.core.stage import StreamInfo  # noqa: E402
from videoanalyst.detectors.oracle_detector import OracleDetector  # noqa: E402
from videoanalyst.evaluators.mot import COMBINED, evaluate_sequences, match_sequence  # noqa: E402
from videoanalyst.synthetic.scene import Scene, SceneConfig  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))
import abewley_sort  # noqa: E402
from machine import describe_machine, describe_run, describe_software  # noqa: E402

#: Every OUTAGE_EVERY frames (from frame OUTAGE_EVERY on) the detector sees nothing for OUTAGE_LENGTH frames.
OUTAGE_EVERY, OUTAGE_LENGTH = 100, 3
#: The scene whose original tracks tests/association/test_sort.py keeps; its outage is at frames 40-42.
FIXTURE_SCENE = SceneConfig(width=640, height=480, num_frames=100, num_objects=10, seed=3)
FIXTURE_OUTAGE = range(40, 43)


@dataclass
class Case:
    """A scene's ground truth (for MOTA / IDF1) and the detections both trackers get, one entry a frame."""

    truth: list[Detections]
    detections: list[Detections]


def make_case(config: SceneConfig, outage: set[int]) -> Case:
    """Ground truth and `OracleDetector` detections (seeded by the scene's seed) of a scene; none on `outage`."""
    scene = Scene(config)
    detector = OracleDetector(seed=config.seed)
    detector.reset(StreamInfo(f"scene-{config.seed}", config.width, config.height))
    image = np.zeros((config.height, config.width, 3), np.uint8)
    truth, detections = [], []
    for index in range(config.num_frames):
        packet = FramePacket(f"scene-{config.seed}", index, index / config.fps, image)
        packet.outputs[GROUND_TRUTH] = scene.ground_truth(index)
        detector.process(packet)
        truth.append(packet.outputs[GROUND_TRUTH])
        detections.append(Detections.empty() if index in outage else packet.outputs[DETECTIONS])
    return Case(truth, detections)


def outages(num_frames: int) -> set[int]:
    return {start + k for start in range(OUTAGE_EVERY, num_frames, OUTAGE_EVERY) for k in range(OUTAGE_LENGTH)}


def original_input(detections: Detections) -> np.ndarray:
    """(M, 5) float64 x1, y1, x2, y2, score: what the original's `Sort.update` takes."""
    return np.concatenate([detections.xyxy, detections.scores[:, None]], axis=1).astype(np.float64)


def run_ours(detections: list[Detections], width: int, height: int) -> tuple[list[Detections], np.ndarray]:
    """Our stage over one stream: its output and the seconds `process` took, per frame."""
    stage = Sort()
    stage.reset(StreamInfo("scene", width, height, num_frames=len(detections)))
    image = np.zeros((height, width, 3), np.uint8)
    packets = [FramePacket("scene", index, 0.0, image) for index in range(len(detections))]
    tracks, seconds = [], np.zeros(len(detections))
    for index, (packet, found) in enumerate(zip(packets, detections)):
        packet.outputs[DETECTIONS] = found
        start = time.perf_counter()
        stage.process(packet)
        seconds[index] = time.perf_counter() - start
        tracks.append(packet.outputs[DETECTIONS])
    return tracks, seconds


def compare(ours: list[Detections], original: list[np.ndarray]) -> dict:
    """Same (frame, id) pairs on every frame? The largest box differences to the original's boxes (px)."""
    worst, worst_float32 = 0.0, 0.0
    for frame, (mine, theirs) in enumerate(zip(ours, original, strict=True), 1):
        if sorted(mine.track_ids.tolist()) != sorted(theirs[:, 4].astype(np.int64).tolist()):
            return {"identical": False, "first_difference": frame, "max_px": None, "max_px_float32": None}
        if len(mine):
            a = mine.xyxy[np.argsort(mine.track_ids)].astype(np.float64)
            b = theirs[np.argsort(theirs[:, 4]), :4]
            worst = max(worst, float(np.abs(a - b).max()))
            worst_float32 = max(worst_float32, float(np.abs(a - b.astype(np.float32)).max()))
    return {"identical": True, "first_difference": None, "max_px": worst, "max_px_float32": worst_float32}


def scores(case: Case, tracks: list[Detections]) -> dict[str, float]:
    """MOTA and IDF1 (motmetrics) of the tracks against the scene's ground truth, every object evaluated."""
    truth = [gt.replace(extra={**gt.extra, "consider": np.ones(len(gt), np.int64)}) for gt in case.truth]
    row = evaluate_sequences({"scene": match_sequence(truth, tracks)})[COMBINED]
    return {"MOTA": row["MOTA"], "IDF1": row["IDF1"]}


def as_detections(outputs: list[np.ndarray]) -> list[Detections]:
    return [Detections(xyxy=rows[:, :4], track_ids=rows[:, 4]) for rows in outputs]


def benchmark(module, config: SceneConfig, rounds: int) -> dict:
    """One scene: both trackers over it `rounds` times, alternating; times, equality and scores."""
    case = make_case(config, outages(config.num_frames))
    frames = [original_input(found) for found in case.detections]
    original_seconds, our_seconds = [], []
    for _ in range(rounds):
        original, seconds = abewley_sort.run_original(module, frames)
        original_seconds.append(seconds)
        ours, seconds = run_ours(case.detections, config.width, config.height)
        our_seconds.append(seconds)
    original_ms = 1000 * np.min(original_seconds, axis=0).mean()
    our_ms = 1000 * np.min(our_seconds, axis=0).mean()
    return {"objects": config.num_objects, "frames": config.num_frames, "seed": config.seed,
            "detections_per_frame": float(np.mean([len(found) for found in case.detections])),
            "original_ms": original_ms, "ours_ms": our_ms, "speedup": original_ms / our_ms,
            "original_ms_mean_of_rounds": 1000 * float(np.mean(original_seconds)),
            "ours_ms_mean_of_rounds": 1000 * float(np.mean(our_seconds)),
            **compare(ours, original),
            **{f"original_{k}": v for k, v in scores(case, as_detections(original)).items()},
            **{f"ours_{k}": v for k, v in scores(case, ours).items()}}


def write_fixture(module, folder: Path) -> None:
    """The test scene's detections (float32 values, exact in 9 digits) and the original's tracks on them."""
    case = make_case(FIXTURE_SCENE, set(FIXTURE_OUTAGE))
    detections = [[frame, *box, score, class_id] for frame, found in enumerate(case.detections, 1)
                  for box, score, class_id in zip(found.xyxy, found.scores, found.class_ids)]
    np.savetxt(folder / "sort_detections.csv", np.array(detections), delimiter=",",
               fmt=["%d"] + ["%.9g"] * 5 + ["%d"], header="frame,x1,y1,x2,y2,score,class_id")
    original, _ = abewley_sort.run_original(module, [original_input(found) for found in case.detections])
    rows = [[frame, track[4], *track[:4]] for frame, tracks in enumerate(original, 1) for track in tracks]
    np.savetxt(folder / "sort_original.csv", np.array(rows), delimiter=",", fmt=["%d", "%d"] + ["%.17g"] * 4,
               header="frame,id,x1,y1,x2,y2 (abewley/sort 2236dff Sort().update on sort_detections.csv)")
    ours, _ = run_ours(case.detections, FIXTURE_SCENE.width, FIXTURE_SCENE.height)
    print(f"wrote {folder}/sort_detections.csv ({len(detections)} boxes) and sort_original.csv ({len(rows)} tracks)")
    print(f"original on it: {scores(case, as_detections(original))}; ours: {scores(case, ours)}; "
          f"{compare(ours, original)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of abewley/sort")
    parser.add_argument("--objects", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3, 4],
                        help="more scenes (20 objects, 300 frames) checked for identical tracks, untimed")
    parser.add_argument("--json", type=Path, default=Path("evaluation/results/sort_vs_original.json"))
    parser.add_argument("--write-fixture", type=Path, help="record the test fixture into this folder and stop")
    args = parser.parse_args(argv)
    module = abewley_sort.import_original(args.reference)
    if args.write_fixture:
        write_fixture(module, args.write_fixture)
        return 0
    print(f"software: {describe_software()}")
    print(f"machine: {describe_machine()}; "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; {args.frames} frames 1920x1080, "
          f"{args.rounds} rounds")
    print("objects  original ms/frame  ours ms/frame  speed ratio  identical  max |box diff| px (float32)"
          "  MOTA orig/ours  IDF1 orig/ours")
    rows = []
    for num_objects in args.objects:
        config = SceneConfig(width=1920, height=1080, num_frames=args.frames, num_objects=num_objects,
                             size_range=(0.08, 0.25), seed=0)
        row = benchmark(module, config, args.rounds)
        rows.append(row)
        print(f"{num_objects:7d}  {row['original_ms']:17.3f}  {row['ours_ms']:13.4f}  {row['speedup']:11.1f}  "
              f"{'yes' if row['identical'] else 'NO':>9}  {row['max_px']:.1e} ({row['max_px_float32']:.1e})"
              f"{100 * row['original_MOTA']:11.2f}/{100 * row['ours_MOTA']:.2f}"
              f"{100 * row['original_IDF1']:11.2f}/{100 * row['ours_IDF1']:.2f}", flush=True)
    checks = []
    for seed in args.seeds:
        config = SceneConfig(width=1920, height=1080, num_frames=300, num_objects=20, size_range=(0.08, 0.25),
                             seed=seed)
        checks.append(benchmark(module, config, rounds=1))
        print(f"seed {seed}: 20 objects, 300 frames: identical {checks[-1]['identical']}, "
              f"max |box diff| {checks[-1]['max_px']} px", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({**describe_run(), "platform": platform.platform(),
                                     "command": " ".join(sys.argv), "outage": [OUTAGE_EVERY, OUTAGE_LENGTH],
                                     "scene": asdict(replace(SceneConfig(), width=1920, height=1080,
                                                             size_range=(0.08, 0.25))),
                                     "rows": rows, "seed_checks": checks}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
