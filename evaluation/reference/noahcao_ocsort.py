"""Run noahcao/OC_SORT's own `OCSort` (unmodified) and our `OcSort` on the same synthetic detections; compare.

    python evaluation/reference/noahcao_ocsort.py --reference /tmp/ref/OC_SORT [--seeds 0 1 2 3 4] [--use-byte]
        [--asso-func iou] [--fixture PATH] [--metrics] [--speed 10 50 200]

The reference is imported from the checkout given (commit 8462e7e: `trackers/ocsort_tracker/ocsort.py`) and
called as its MOT17 evaluation calls it, ``update(dets, img_info, img_size)`` with (N, 5) x1, y1, x2, y2, score and
img_size == img_info (no rescaling). Its class-level id counter is reset before every run. Two counters are wrapped
around it, changing no arithmetic: how often `KalmanFilterNew.unfreeze` replays a gap (ORU) and how many pairs its
second-stage `linear_assignment` keeps (OCR, plus BYTE with --use-byte).

Detections: `Scene` + `OracleDetector` (jitter, misses, false positives, occlusion), every 20th frame empty and
frames 60-64 empty (every track misses, so ORU and OCR trigger), per seed. Checked: identical (frame, id) sets and
boxes; ours are float32 (`Detections`), so boxes are compared with the reference's rounded to float32.

--fixture writes the detections and the reference's output of one scene (80 frames, 8 objects) to a text file for
tests/association/test_oc_sort.py. --metrics prints MOTA / IDF1 of both on one scene. --speed times both
(ms/frame, median of 3 alternating runs) on 1920x1080 scenes with that many objects; run it with
OPENBLAS_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from videoanalyst.association.oc_sort import OcSort
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.detectors.oracle_detector import OracleDetector
from videoanalyst.evaluators.mot import clear_identity_metrics, match_sequence
from videoanalyst.synthetic.scene import Scene, SceneConfig

#: Frames every track misses: the gap ORU re-updates over and OCR recovers from.
BLACKOUT = range(60, 65)


def synthetic_frames(seed: int, frames: int, objects: int, width: int = 640, height: int = 480,
                     size_range: tuple[float, float] = (0.1, 0.3)) -> tuple[list[Detections], list[Detections]]:
    """Ground truth and oracle detections of one seeded scene; every 20th frame and `BLACKOUT` detect nothing."""
    scene = Scene(SceneConfig(width=width, height=height, num_frames=frames, num_objects=objects, seed=seed,
                              speed=0.015, size_range=size_range))
    detector = OracleDetector(jitter=0.03, miss_rate=0.1, false_positives=1.0, min_visibility=0.3, seed=seed)
    detector.reset(StreamInfo(f"scene-{seed}", width, height))
    image = np.zeros((height, width, 3), np.uint8)
    truth, detections = [], []
    for index in range(frames):
        packet = FramePacket(f"scene-{seed}", index, index / 25, image)
        packet.outputs[GROUND_TRUTH] = scene.ground_truth(index)
        detector.process(packet)
        empty = index % 20 == 19 or index in BLACKOUT
        truth.append(packet.outputs[GROUND_TRUTH])
        detections.append(Detections.empty() if empty else packet.outputs[DETECTIONS])
    return truth, detections


def run_ours(detections: list[Detections], settings: dict, width: int, height: int,
             states: list[np.ndarray] | None = None) -> list[Detections]:
    """Our tracks a frame; with `states`, also every track's Kalman state after each frame, in track order."""
    tracker = OcSort(**settings)
    tracker.reset(StreamInfo("ours", width, height))
    image = np.zeros((height, width, 3), np.uint8)
    results = []
    for index, frame in enumerate(detections):
        packet = FramePacket("ours", index, index / 25, image)
        packet.outputs[DETECTIONS] = frame
        tracker.process(packet)
        results.append(packet.outputs[DETECTIONS])
        if states is not None:
            states.append(tracker._tracks.mean.copy())
    return results


class Reference:
    """The original OCSort from a checkout, with counters of its ORU replays and second-stage matches."""

    def __init__(self, checkout: Path) -> None:
        sys.path.insert(0, str(checkout))
        from trackers.ocsort_tracker import kalmanfilter, ocsort

        self.module = ocsort
        self.counts = {"oru": 0, "second_stage_matches": 0}
        unfreeze, assign = kalmanfilter.KalmanFilterNew.unfreeze, ocsort.linear_assignment
        counts = self.counts

        def counted_unfreeze(kf):
            counts["oru"] += kf.attr_saved is not None
            return unfreeze(kf)

        def counted_assign(cost):
            pairs = assign(cost)
            counts["second_stage_matches"] += int(sum(-cost[i, j] >= counted_assign.threshold for i, j in pairs))
            return pairs

        kalmanfilter.KalmanFilterNew.unfreeze = counted_unfreeze
        ocsort.linear_assignment = counted_assign
        self._assign = counted_assign

    def run(self, detections: list[Detections], settings: dict, width: int, height: int,
            states: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """(K, 5) x1, y1, x2, y2, id a frame, as its `update` returns them; with `states`, also every tracker's
        Kalman state after each frame, in its list order."""
        self.module.KalmanBoxTracker.count = 0
        self._assign.threshold = settings.get("iou_threshold", 0.3)
        tracker = self.module.OCSort(**settings)
        results = []
        for frame in detections:
            dets = np.concatenate([frame.xyxy, frame.scores[:, None]], axis=1).astype(np.float64)
            results.append(tracker.update(dets, (height, width), (height, width)))
            if states is not None:
                states.append(np.array([t.kf.x[:, 0] for t in tracker.trackers]).reshape(-1, 7))
        return results


def compare(ours: list[Detections], reference: list[np.ndarray], our_states: list[np.ndarray],
            reference_states: list[np.ndarray]) -> dict:
    """Frames whose id sets differ, the largest box difference over frames with equal ids, and the largest
    difference of the Kalman states (relative to max(1, |value|)) over frames with as many tracks."""
    differing, largest, largest_f32 = [], 0.0, 0.0
    state_difference = max((float(np.max(np.abs(mine - theirs) / np.maximum(1.0, np.abs(theirs)), initial=0.0))
                            for mine, theirs in zip(our_states, reference_states, strict=True)
                            if mine.shape == theirs.shape), default=0.0)
    tracks_differ = [index for index, (mine, theirs) in enumerate(zip(our_states, reference_states))
                     if mine.shape != theirs.shape]
    for index, (mine, theirs) in enumerate(zip(ours, reference, strict=True)):
        theirs = theirs[np.argsort(theirs[:, 4])]
        mine = mine[np.argsort(mine.track_ids)]
        if mine.track_ids.tolist() != theirs[:, 4].astype(np.int64).tolist():
            differing.append(index)
            continue
        if len(mine):
            largest = max(largest, float(np.abs(mine.xyxy - theirs[:, :4]).max()))
            largest_f32 = max(largest_f32, float(np.abs(mine.xyxy - theirs[:, :4].astype(np.float32)).max()))
    return {"frames_with_other_ids": differing, "max_box_difference_px": largest,
            "max_box_difference_to_float32_reference_px": largest_f32,
            "max_relative_state_difference": state_difference, "frames_with_other_track_counts": tracks_differ,
            "boxes": sum(len(frame) for frame in ours)}


def mot_metrics(truth: list[Detections], tracks: list[Detections]) -> dict[str, float]:
    """MOTA and IDF1 of tracks against the scene's ground truth (every gt box evaluated)."""
    gt = [frame.replace(extra={"consider": np.ones(len(frame), np.int64)}) for frame in truth]
    row = clear_identity_metrics({"scene": match_sequence(gt, tracks)})["scene"]
    return {"MOTA": row["MOTA"], "IDF1": row["IDF1"], "IDSW": row["IDSW"]}


def as_detections(rows: np.ndarray) -> Detections:
    return Detections(xyxy=rows[:, :4], track_ids=rows[:, 4].astype(np.int64))


def write_fixture(path: Path, detections: list[Detections], reference: list[np.ndarray], settings: dict,
                  command: str, size: tuple[int, int]) -> None:
    """Text: '#' comment lines, then 'det frame x1 y1 x2 y2 score class' and 'trk frame id x1 y1 x2 y2' rows, all
    floats written so that they read back exactly."""
    lines = ["# Output of noahcao/OC_SORT 8462e7e (trackers/ocsort_tracker/ocsort.py, OCSort.update) on these dets.",
             f"# Made by: {command}", f"settings {json.dumps(settings)}", f"image {size[0]} {size[1]}",
             f"frames {len(detections)}"]
    for index, frame in enumerate(detections):
        for box, score, class_id in zip(frame.xyxy.tolist(), frame.scores.tolist(), frame.class_ids.tolist()):
            lines.append(" ".join(["det", str(index), *map(repr, box), repr(score), str(class_id)]))
    for index, rows in enumerate(reference):
        for row in rows.tolist():
            lines.append(" ".join(["trk", str(index), str(int(row[4])), *map(repr, row[:4])]))
    path.write_text("\n".join(lines) + "\n")


def speed(reference: Reference, objects: int, frames: int, settings: dict) -> dict:
    """ms/frame of both on one 1920x1080 scene, median of 3 alternating runs."""
    _, detections = synthetic_frames(0, frames, objects, 1920, 1080, size_range=(0.04, 0.12))
    timings: dict[str, list[float]] = {"reference": [], "ours": []}
    for _ in range(3):
        start = time.perf_counter()
        reference.run(detections, settings, 1920, 1080)
        timings["reference"].append(time.perf_counter() - start)
        start = time.perf_counter()
        run_ours(detections, settings, 1920, 1080)
        timings["ours"].append(time.perf_counter() - start)
    per_frame = {name: 1000 * float(np.median(values)) / frames for name, values in timings.items()}
    return {"objects": objects, "detections_per_frame": sum(map(len, detections)) / frames, **per_frame}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="an OC_SORT checkout (noahcao/OC_SORT)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--objects", type=int, default=12)
    parser.add_argument("--use-byte", action="store_true")
    parser.add_argument("--asso-func", default="iou", choices=["iou", "giou", "diou", "ciou"])
    parser.add_argument("--fixture", type=Path, help="write a scene's detections and reference output here")
    parser.add_argument("--fixture-seed", type=int, default=1, help="its seed (1: OCR matches 3 times, ORU 95)")
    parser.add_argument("--metrics", action="store_true", help="MOTA / IDF1 of both on seed 0's scene")
    parser.add_argument("--speed", type=int, nargs="*", default=[], help="objects per timed 1920x1080 scene")
    parser.add_argument("--speed-frames", type=int, default=300)
    args = parser.parse_args()

    reference = Reference(args.reference)
    settings = {"det_thresh": 0.6, "use_byte": args.use_byte, "asso_func": args.asso_func}
    print(f"settings {settings}")
    if args.fixture:
        _, detections = synthetic_frames(args.fixture_seed, 80, 8)
        before = dict(reference.counts)
        expected = reference.run(detections, settings, 640, 480)
        counts = {name: reference.counts[name] - before[name] for name in before}
        command = "python evaluation/reference/noahcao_ocsort.py --reference OC_SORT_CHECKOUT " + " ".join(
            arg for arg in sys.argv[1:] if arg not in (str(args.reference), "--reference"))
        write_fixture(args.fixture, detections, expected, settings, command, (640, 480))
        print(f"fixture {args.fixture}: {sum(map(len, detections))} detections, {sum(map(len, expected))} track "
              f"boxes, {counts}")
    for seed in args.seeds:
        before = dict(reference.counts)
        truth, detections = synthetic_frames(seed, args.frames, args.objects)
        reference_states: list[np.ndarray] = []
        our_states: list[np.ndarray] = []
        theirs = reference.run(detections, settings, 640, 480, reference_states)
        ours = run_ours(detections, settings, 640, 480, our_states)
        counts = {name: reference.counts[name] - before[name] for name in before}
        print(f"seed {seed}: {json.dumps({**compare(ours, theirs, our_states, reference_states), **counts})}")
        if args.metrics and seed == args.seeds[0]:
            print(f"  reference {mot_metrics(truth, [as_detections(rows) for rows in theirs])}")
            print(f"  ours      {mot_metrics(truth, ours)}")
    if args.speed:
        print(f"speed on {platform.processor() or platform.machine()}, {args.speed_frames} frames 1920x1080:")
        print(f"{'objects':>8} {'dets/frame':>10} {'reference ms':>13} {'ours ms':>8} {'speed-up':>8}")
        for objects in args.speed:
            row = speed(reference, objects, args.speed_frames, settings)
            print(f"{row['objects']:>8} {row['detections_per_frame']:>10.1f} {row['reference']:>13.2f} "
                  f"{row['ours']:>8.2f} {row['reference'] / row['ours']:>8.1f}")


if __name__ == "__main__":
    main()
