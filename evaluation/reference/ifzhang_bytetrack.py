"""Run the original BYTETracker (ifzhang/ByteTrack, commit d1bf019, `yolox/tracker/`) from its checkout, unmodified,
beside our `byte_track` stage on the same synthetic detections: identities, boxes, MOTA / IDF1 and speed.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python evaluation/reference/ifzhang_bytetrack.py \
        --reference /tmp/ref/ByteTrack [--deps /tmp/refdeps_bytetrack] \
        compare [--seeds 0 1 2 3 4] [--track-buffers 30 3] [--no-fuse-score]
    ... speed [--objects 10 50 200] [--frames 500] [--rounds 3]
    ... fixture --out tests/association/data

Shims, none of which changes its arithmetic: `np.float` (removed in NumPy 1.24) is `float` again; the package
`yolox` is registered without running its `__init__`, which imports the detector's training utilities (loguru,
thop, ...), so only `yolox/tracker/*.py` run. Its IoU comes from `cython_bbox` (pip, found in `--deps`); where that is
not installed, `_bbox_overlaps` stands in for it, the same formula (inclusive pixels: width = x2 - x1 + 1).
Its id counter is a class attribute shared by every tracker: `run_original` resets it so each stream's ids start
at 1, as ours do. It is called as its demo calls it, `update(dets, img_info, img_size)` with (M, 5) x1, y1, x2, y2,
score and img_size == img_info, so that no box is rescaled; its `det_thresh` (track_thresh + 0.1) is passed to ours
as `new_track_threshold`.

Synthetic detections (`synthetic_case`): a `Scene` seen by `OracleDetector` (3 % jitter, 10 % misses, one false
positive a frame), scores re-drawn over 0.1 .. 1 so that both associations matter: a true box scores its visibility
times U(0.55, 1.1), clipped, so occluded objects score low; a false one U(0.1, 0.7). 5 % of the true boxes are
detected twice (a copy with 2 % jitter scoring U(0.1, 1), as when NMS fails), which makes duplicate tracks. Boxes are
rounded to 0.01 px and scores to 0.001; 3 % of frames are empty, and so are 12 frames in a row mid-stream.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videoanalyst.association.byte_track import ByteTrack
from videoanalyst.association.kalman_xyah import xyah_to_xyxy
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.detectors.oracle_detector import OracleDetector
from videoanalyst.evaluators.mot import clear_identity_metrics, match_sequence
from videoanalyst.synthetic.scene import Scene, SceneConfig

#: Fixture cases: name -> (scene and tracker settings). Small enough for a text fixture under 200 KB.
FIXTURE_CASES = {
    "default": {"seed": 0, "num_objects": 8, "num_frames": 120, "track_buffer": 30, "fuse_score": True},
    "short_buffer": {"seed": 1, "num_objects": 8, "num_frames": 90, "track_buffer": 3, "fuse_score": True},
    "mot20": {"seed": 2, "num_objects": 6, "num_frames": 60, "track_buffer": 30, "fuse_score": False},
}
FIXTURE_SIZE = (640, 360)
#: The fixture case whose ground truth is stored, for MOTA / IDF1.
METRICS_CASE = "default"
#: The reference's defaults (tools/demo_track.py).
TRACK_THRESHOLD, MATCH_THRESHOLD, FRAME_RATE = 0.5, 0.8, 30


@dataclass
class Case:
    """One synthetic stream: ground truth and detections of every frame."""

    width: int
    height: int
    truth: list[Detections]
    detections: list[Detections]


def synthetic_case(seed: int, num_objects: int, num_frames: int, width: int, height: int,
                   size_range: tuple[float, float] = (0.15, 0.4)) -> Case:
    """Ground truth and noisy detections of a seeded scene, as the module docstring describes."""
    scene = Scene(SceneConfig(width=width, height=height, num_frames=num_frames, num_objects=num_objects,
                              size_range=size_range, seed=seed))
    detector = OracleDetector(keep_identities=True, seed=seed)
    detector.reset(StreamInfo(f"synthetic-{seed}", width, height))
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.uint8)
    gap = num_frames // 2 + np.arange(12)
    truth, detections = [], []
    for index in range(num_frames):
        packet = FramePacket(f"synthetic-{seed}", index, index / FRAME_RATE, image)
        packet.outputs[GROUND_TRUTH] = frame_truth = scene.ground_truth(index)
        detector.process(packet)
        found = packet.outputs[DETECTIONS]
        visibility = dict(zip(frame_truth.track_ids.tolist(), frame_truth.extra["visibility"].tolist()))
        seen = np.array([visibility.get(i, 0.0) for i in found.track_ids.tolist()])
        scores = np.where(found.track_ids > 0, np.clip(seen * rng.uniform(0.55, 1.1, len(found)), 0.1, 1.0),
                          rng.uniform(0.1, 0.7, len(found)))
        twice = np.flatnonzero((found.track_ids > 0) & (rng.random(len(found)) < 0.05))
        size = np.tile(found.xyxy[twice, 2:] - found.xyxy[twice, :2], 2)
        found = Detections.concatenate([found, found[twice].replace(
            xyxy=found.xyxy[twice] + rng.normal(0, 0.02, (len(twice), 4)) * size)])
        scores = np.concatenate([scores, rng.uniform(0.1, 1.0, len(twice))])
        if rng.random() < 0.03 or index in gap:
            found = found[np.zeros(len(found), bool)]
            scores = scores[:0]
        truth.append(frame_truth.replace(xyxy=np.round(frame_truth.xyxy, 2)))
        detections.append(Detections(np.round(found.xyxy, 2), scores=np.round(scores, 3), class_ids=found.class_ids))
    return Case(width, height, truth, detections)


def import_original(reference: Path, deps: Path | None = None) -> types.ModuleType:
    """Its `yolox.tracker.byte_tracker` module from the checkout `reference`, with the shims above."""
    package = Path(reference) / "yolox"
    if not (package / "tracker" / "byte_tracker.py").is_file():
        raise SystemExit(f"{reference}: no yolox/tracker/byte_tracker.py; pass a checkout of ifzhang/ByteTrack")
    np.float = float  # removed from NumPy; the original uses it as a dtype
    if deps is not None:
        sys.path.append(str(deps))
    try:
        importlib.import_module("cython_bbox")
    except ImportError:
        stand_in = types.ModuleType("cython_bbox")
        stand_in.bbox_overlaps = _bbox_overlaps
        sys.modules["cython_bbox"] = stand_in
    yolox = types.ModuleType("yolox")
    yolox.__path__ = [str(package)]
    sys.modules["yolox"] = yolox
    return importlib.import_module("yolox.tracker.byte_tracker")


def _bbox_overlaps(boxes: np.ndarray, query_boxes: np.ndarray) -> np.ndarray:
    """`cython_bbox.bbox_overlaps`: (N, K) IoU of x1, y1, x2, y2 boxes counting inclusive pixels; 0 where disjoint."""
    a, b = boxes[:, None, :], query_boxes[None, :, :]
    width = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + 1
    height = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + 1
    union = ((a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1) + (b[..., 2] - b[..., 0] + 1)
             * (b[..., 3] - b[..., 1] + 1) - width * height)
    return np.where((width > 0) & (height > 0), width * height / union, 0.0)


@dataclass
class Run:
    """One tracker over one stream: the tracks it reported each frame, their float64 boxes, seconds it took."""

    tracks: list[Detections]
    boxes: list[np.ndarray]
    seconds: float


def run_original(module: types.ModuleType, case: Case, track_buffer: int = 30, fuse_score: bool = True) -> Run:
    """Its `BYTETracker.update` over one stream, timed."""
    module.BaseTrack._count = 0
    settings = argparse.Namespace(track_thresh=TRACK_THRESHOLD, track_buffer=track_buffer,
                                  match_thresh=MATCH_THRESHOLD, mot20=not fuse_score)
    tracker = module.BYTETracker(settings, frame_rate=FRAME_RATE)
    size = (case.height, case.width)
    run = Run([], [], 0.0)
    for detections in case.detections:
        rows = np.concatenate([detections.xyxy, detections.scores[:, None]], axis=1).astype(np.float64)
        start = time.perf_counter()
        tracks = tracker.update(rows, size, size)
        run.seconds += time.perf_counter() - start
        run.boxes.append(np.array([t.tlbr for t in tracks]).reshape(-1, 4))
        run.tracks.append(Detections(run.boxes[-1], scores=[t.score for t in tracks],
                                     track_ids=[t.track_id for t in tracks]))
    return run


def run_ours(case: Case, track_buffer: int = 30, fuse_score: bool = True) -> Run:
    """Our `ByteTrack` stage over one stream as the original is run, timed.

    The float64 boxes are the Kalman means behind the float32 boxes it reports, read from its private state (the
    tracked, confirmed rows, in order), to compare them with the original's at full precision.
    """
    stage = ByteTrack(track_threshold=TRACK_THRESHOLD, new_track_threshold=TRACK_THRESHOLD + 0.1,
                      match_threshold=MATCH_THRESHOLD, track_buffer=track_buffer, frame_rate=FRAME_RATE,
                      fuse_score=fuse_score)
    stage.reset(StreamInfo("synthetic", case.width, case.height))
    image = np.zeros((case.height, case.width, 3), np.uint8)
    run = Run([], [], 0.0)
    for index, detections in enumerate(case.detections):
        packet = FramePacket("synthetic", index, index / FRAME_RATE, image)
        packet.outputs[DETECTIONS] = detections
        start = time.perf_counter()
        stage.process(packet)
        run.seconds += time.perf_counter() - start
        state = stage._tracks
        run.boxes.append(xyah_to_xyxy(state.mean[state.confirmed & ~state.lost]))
        run.tracks.append(packet.outputs[DETECTIONS])
        if not np.array_equal(run.boxes[-1].astype(np.float32), run.tracks[-1].xyxy):
            raise AssertionError(f"frame {index + 1}: the stage's state does not match what it reported")
    return run


def compare(ours: Run, original: Run) -> tuple[int, float]:
    """(first frame, 1-based, whose ids (in order) differ, or 0; largest float64 box difference in px before it)."""
    worst = 0.0
    for frame, (mine, theirs, my_boxes, their_boxes) in enumerate(
            zip(ours.tracks, original.tracks, ours.boxes, original.boxes, strict=True), 1):
        if mine.track_ids.tolist() != theirs.track_ids.tolist():
            return frame, worst
        if len(mine):
            worst = max(worst, float(np.abs(my_boxes - their_boxes).max()))
    return 0, worst


def mota_idf1(case: Case, tracks: Sequence[Detections]) -> tuple[float, float]:
    """MOTA and IDF1 (motmetrics, MOT17 preprocessing) of `tracks` against the case's ground truth."""
    truth = [t.replace(extra={"consider": np.ones(len(t), np.int64)}) for t in case.truth]
    row = clear_identity_metrics({"case": match_sequence(truth, list(tracks))})["case"]
    return row["MOTA"], row["IDF1"]


def command_compare(module: types.ModuleType, args: argparse.Namespace) -> bool:
    same = True
    for track_buffer in args.track_buffers:
        for seed in args.seeds:
            case = synthetic_case(seed, args.num_objects, args.frames, *FIXTURE_SIZE)
            ours = run_ours(case, track_buffer, args.fuse_score)
            original = run_original(module, case, track_buffer, args.fuse_score)
            verdict, agree = _verdict(ours, original)
            same &= agree
            print(f"seed {seed} track_buffer {track_buffer:2d}: {sum(map(len, original.tracks))} track boxes, "
                  f"{sum(map(len, case.detections))} detections; {verdict}; MOTA / IDF1 ours "
                  f"{_percent(mota_idf1(case, ours.tracks))}, original {_percent(mota_idf1(case, original.tracks))}")
    return same


def command_speed(module: types.ModuleType, args: argparse.Namespace) -> bool:
    same = True
    for num_objects in args.objects:
        case = synthetic_case(args.seed, num_objects, args.frames, 1920, 1080, size_range=(0.08, 0.25))
        ours, original = run_ours(case), run_original(module, case)
        for _ in range(args.rounds - 1):  # alternate, keep each one's fastest run: the machine may be busy
            ours = min(ours, run_ours(case), key=lambda run: run.seconds)
            original = min(original, run_original(module, case), key=lambda run: run.seconds)
        verdict, agree = _verdict(ours, original)
        same &= agree
        per_frame = sum(map(len, case.detections)) / args.frames
        print(f"{num_objects:4d} objects, {args.frames} frames 1920x1080, {per_frame:.1f} detections a frame: ours "
              f"{1000 * ours.seconds / args.frames:.3f} ms/frame, original {1000 * original.seconds / args.frames:.3f}"
              f" ms/frame (x{original.seconds / ours.seconds:.1f}); {verdict}; MOTA / IDF1 "
              f"{_percent(mota_idf1(case, ours.tracks))}")
    return same


def _verdict(ours: Run, original: Run) -> tuple[str, bool]:
    """How the two runs compare, in words, and whether they agree (same ids, boxes within 1e-6 px)."""
    differs, worst = compare(ours, original)
    ids = "ids identical" if not differs else f"ids differ from frame {differs}"
    return f"{ids}, max box difference {worst:.1e} px", differs == 0 and worst <= 1e-6


def command_fixture(module: types.ModuleType, args: argparse.Namespace) -> bool:
    """Write the cases' detections, the original's tracks, the settings and its MOTA / IDF1, and the ground truth
    of `METRICS_CASE`."""
    command = "PYTHONPATH=. python " + " ".join(sys.argv)
    detections, tracks, truth, meta = [], [], [], {"command": command, "image_size": FIXTURE_SIZE, "cases": {}}
    for name, settings in FIXTURE_CASES.items():
        case = synthetic_case(settings["seed"], settings["num_objects"], settings["num_frames"], *FIXTURE_SIZE)
        original = run_original(module, case, settings["track_buffer"], settings["fuse_score"])
        mota, idf1 = mota_idf1(case, original.tracks)
        meta["cases"][name] = {**settings, "reference_MOTA": mota, "reference_IDF1": idf1}
        for frame, (found, tracked, boxes, true) in enumerate(
                zip(case.detections, original.tracks, original.boxes, case.truth), 1):
            detections += [f"{name},{frame},{_short(b)},{_short(s)}" for b, s in zip(found.xyxy, found.scores)]
            tracks += [f"{name},{frame},{i}," + ",".join(f"{v:.8f}" for v in b) + f",{_short(s)}"
                       for b, s, i in zip(boxes, tracked.scores, tracked.track_ids)]
            if name == METRICS_CASE:
                truth += [f"{name},{frame},{i},{_short(b)}" for b, i in zip(true.xyxy, true.track_ids)]
    args.out.mkdir(parents=True, exist_ok=True)
    for kind, lines, columns in (("detections", detections, "x1,y1,x2,y2,score"),
                                 ("tracks", tracks, "id,x1,y1,x2,y2,score"), ("truth", truth, "id,x1,y1,x2,y2")):
        (args.out / f"byte_track_{kind}.csv").write_text(f"case,frame,{columns}\n" + "\n".join(lines) + "\n")
    (args.out / "byte_track_cases.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta, indent=1))
    return True


def _short(values: np.ndarray) -> str:
    """float32 values, each in the fewest digits that read back as the same float32."""
    return ",".join(np.format_float_positional(np.float32(v), unique=True, trim="-") for v in np.atleast_1d(values))


def _percent(pair: tuple[float, float]) -> str:
    return " / ".join(f"{100 * v:.2f}" for v in pair)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="checkout of ifzhang/ByteTrack")
    parser.add_argument("--deps", type=Path, help="folder with cython_bbox (pip install --target)")
    commands = parser.add_subparsers(dest="command", required=True)
    compare_parser = commands.add_parser("compare", help="ids and boxes on several seeds and buffers")
    compare_parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    compare_parser.add_argument("--track-buffers", type=int, nargs="+", default=[30, 3])
    compare_parser.add_argument("--num-objects", type=int, default=10)
    compare_parser.add_argument("--frames", type=int, default=300)
    compare_parser.add_argument("--no-fuse-score", dest="fuse_score", action="store_false")
    speed_parser = commands.add_parser("speed", help="ms/frame of both at 1920x1080")
    speed_parser.add_argument("--objects", type=int, nargs="+", default=[10, 50, 200])
    speed_parser.add_argument("--frames", type=int, default=500)
    speed_parser.add_argument("--seed", type=int, default=0)
    speed_parser.add_argument("--rounds", type=int, default=3, help="runs of each, alternating; the fastest counts")
    fixture_parser = commands.add_parser("fixture", help="write the test fixture")
    fixture_parser.add_argument("--out", type=Path, default=Path("tests/association/data"))
    args = parser.parse_args(argv)
    module = import_original(args.reference, args.deps)
    run = {"compare": command_compare, "speed": command_speed, "fixture": command_fixture}[args.command]
    return 0 if run(module, args) else 1


if __name__ == "__main__":
    raise SystemExit(main())
