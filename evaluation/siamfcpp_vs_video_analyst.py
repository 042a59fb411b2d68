"""Our SiamFC++ tracker against video_analyst's own, side by side in one run: same weights, same frames.

Checks that the boxes agree (the issue's bar: within 1e-3 px over 100 frames) and times both: video_analyst's
`SiamFCppTracker.update` per frame; ours for one target with ``exact=True`` (video_analyst's arithmetic) and with
the default fast network (batch norms folded, channels-last), and for K targets tracked together (one forward per
frame). Random weights make tracking chaotic, so only the exact mode stays within 1e-3 px with them; pass
``--weights`` (e.g. the demo weights) to see how far the fast mode goes with trained weights.
video_analyst runs unmodified in its own process (evaluation/reference/video_analyst_siamfcpp.py) from a checkout
you point at; it needs opencv-python-headless, loguru, yacs and pycocotools on its path.

    python evaluation/siamfcpp_vs_video_analyst.py --video-analyst /path/to/video_analyst --deps /path/to/site \
        [--exp siamfcpp_alexnet] [--frames 100] [--device cpu] [--threads 2] [--rounds 3] [--targets 1 8 64]

Without `--weights` both trackers get the same seeded non-degenerate random weights (videoanalyst's
`randomize_`), saved in video_analyst's own checkpoint layout. `--write-fixture FILE` stores video_analyst's boxes,
its state and its network's score maps and boxes of every frame, for the test suite
(tests/trackers/test_siamfcpp_tracker.py regenerates the same clip and weights and crops with the torch kernel,
OpenCV 5.0's rounding: record it with OpenCV 5.0 on video_analyst's path). The fixture there came from

    pip install --target /tmp/va-deps loguru yacs && pip install --no-deps --target /tmp/va-deps pycocotools
    pip install --no-deps --target /tmp/cv50 opencv-python-headless==5.0.0.93
    python evaluation/siamfcpp_vs_video_analyst.py --video-analyst /tmp/video_analyst --deps /tmp/va-deps /tmp/cv50 \
        --frames 40 --rounds 1 --targets 1 --write-fixture tests/trackers/data/video_analyst_siamfcpp_alexnet.npz
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from machine import describe_machine, describe_run, describe_software

from videoanalyst.experiments import load_experiment
from videoanalyst.models.siamfcpp import ours_to_official
from videoanalyst.models.siamfcpp.random_weights import randomize_
from videoanalyst.synthetic.scene import Scene, SceneConfig, TargetView

#: Our experiment -> video_analyst's test configuration with the same hyper-parameters.
REFERENCE_CONFIGS = {
    "siamfcpp_alexnet": "experiments/siamfcpp/test/vot/siamfcpp_alexnet.yaml",
    "siamfcpp_alexnet_got": "experiments/siamfcpp/test/got10k/siamfcpp_alexnet-got.yaml",
    "siamfcpp_googlenet": "experiments/siamfcpp/test/vot/siamfcpp_googlenet.yaml",
    "siamfcpp_googlenet_got": "experiments/siamfcpp/test/got10k/siamfcpp_googlenet-got.yaml",
    "siamfcpp_alexnet_multi_temp": "experiments/siamfcpp/test/vot/multi_temp/siamfcpp_alexnet-multi_temp.yaml",
}
DRIVER = Path(__file__).resolve().parent / "reference" / "video_analyst_siamfcpp.py"
#: The clip: 480x360 with camera pan, the most visible object followed from its first-frame box (stored in the fixture).
CLIP = SceneConfig(width=480, height=360, num_frames=100, num_objects=3, seed=11, camera_pan=True)


def equivalence_clip(num_frames: int = CLIP.num_frames) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W, 3) RGB frames and the first-frame x, y, w, h of its most visible object of the equivalence clip."""
    scene = Scene(SceneConfig(**{**CLIP.__dict__, "num_frames": num_frames}))
    frames = np.stack([scene.frame(i) for i in range(num_frames)])
    return frames, TargetView(scene).state(0).xywh


def save_official(network: torch.nn.Module, path: Path) -> None:
    """A checkpoint in video_analyst's layout: its key names, a plain OrderedDict, `torch.save`d."""
    torch.save(OrderedDict((ours_to_official(k), v) for k, v in network.state_dict().items()), path)


def run_reference(
    args: argparse.Namespace, weights: Path, frames_bgr: np.ndarray, init: np.ndarray, work: Path
) -> dict:
    np.savez(work / "frames.npz", frames=frames_bgr, init=init)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([args.video_analyst, *args.deps]))
    command = [
        sys.executable,
        str(DRIVER),
        "--config",
        str(Path(args.video_analyst) / REFERENCE_CONFIGS[args.exp]),
        "--weights",
        str(weights),
        "--frames",
        str(work / "frames.npz"),
        "--out",
        str(work / "ref.npz"),
        "--device",
        args.device,
        "--threads",
        str(args.threads),
        "--warmup",
        "3",
    ]
    subprocess.run(command, check=True, env=environment, cwd=work)
    return dict(np.load(work / "ref.npz"))


def run_ours(tracker, frames: np.ndarray, init: np.ndarray, device: str, targets: int = 1) -> dict:
    """Track `targets` copies of the init box (the same work as `targets` independent targets) and time it. The
    frames are the (3, H, W) views of the RGB frames a pipeline passes (`FramePacket.tensor`)."""
    images = [torch.from_numpy(frame).permute(2, 0, 1).to(device) for frame in frames]
    boxes = np.repeat(init[None], targets, axis=0)
    for _ in range(3):  # warm-up, as for the reference
        warm = tracker.initialize(images[0], boxes)
        tracker.track([images[1]], [warm])
    batch = tracker.initialize(images[0], boxes)
    out, seconds = [init.astype(np.float64)], []  # the first row is the init box, as both trackers report it
    for image in images[1:]:
        _synchronise(device)
        start = time.perf_counter()
        tracker.track([image], [batch])
        xywh = batch.xywh()
        _synchronise(device)
        seconds.append(time.perf_counter() - start)
        out.append(xywh[0].astype(np.float64))
    return {"boxes": np.stack(out), "seconds": np.asarray(seconds)}


def _pooled(results: list[dict]) -> dict:
    """One result from several runs of the same tracker: the first run's boxes and states (equal in every run) and
    all their times."""
    return {**results[0], "seconds": np.concatenate([r["seconds"] for r in results])}


def _synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video-analyst", required=True, help="a checkout of megvii-research/video_analyst")
    parser.add_argument("--deps", nargs="*", default=[], help="extra PYTHONPATH entries for it (its deps)")
    parser.add_argument("--exp", default="siamfcpp_alexnet", choices=sorted(REFERENCE_CONFIGS))
    parser.add_argument("--weights", help="a checkpoint for both (default: seeded random weights)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=int, default=3, help="times each single-target tracker runs, alternating")
    parser.add_argument("--targets", type=int, nargs="*", default=[1, 8, 64], help="K for the batched timing")
    parser.add_argument("--write-fixture", help="save video_analyst's boxes (npz) for the test suite")
    parser.add_argument("--json", default="evaluation/results/siamfcpp_vs_video_analyst.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    experiment = load_experiment(args.exp)
    frames, init = equivalence_clip(args.frames)
    frames_bgr = np.ascontiguousarray(frames[..., ::-1])
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        weights = work / "weights.pkl"
        if args.weights:
            network = experiment.build_network()
            from videoanalyst.models.siamfcpp import load_checkpoint

            load_checkpoint(network, args.weights)
        else:
            network = randomize_(experiment.build_network(), seed=args.seed)
        save_official(network, weights)
        tracker, _ = experiment.build_tracker(weights, device=args.device, quiet=True)
        exact_experiment = dataclasses.replace(experiment, tracker_kwargs={**experiment.tracker_kwargs, "exact": True})
        exact_tracker, _ = exact_experiment.build_tracker(weights, device=args.device, quiet=True)
        runs = {"reference": [], "exact": [], "fast": []}
        for _ in range(args.rounds):  # alternate, so that a slow spell of a shared machine hits all alike
            runs["reference"].append(run_reference(args, weights, frames_bgr, init, work))
            runs["exact"].append(run_ours(exact_tracker, frames, init, args.device))
            runs["fast"].append(run_ours(tracker, frames, init, args.device))
        reference, ours = _pooled(runs.pop("reference")), {mode: _pooled(results) for mode, results in runs.items()}
        batched = {k: run_ours(tracker, frames[:21], init, args.device, k) for k in args.targets}
    if args.write_fixture:
        clip = {**CLIP.__dict__, "num_frames": args.frames}
        stored = ("boxes", "centers", "sizes", "scores", "crop_boxes", "torch", "opencv")
        np.savez_compressed(
            args.write_fixture, seed=args.seed, exp=args.exp, clip=json.dumps(clip), **{k: reference[k] for k in stored}
        )

    differences = {mode: np.abs(result["boxes"] - reference["boxes"]).max(axis=1) for mode, result in ours.items()}
    reference_ms = float(np.median(reference["seconds"]) * 1000)
    rows = [("video_analyst SiamFCppTracker.update", 1, reference_ms, 1000 / reference_ms, 1.0)]
    for mode, result in ours.items():
        ms = float(np.median(result["seconds"]) * 1000)
        label = "exact=True" if mode == "exact" else "default"
        rows.append((f"videoanalyst SiamFCppTracker.track, {label}", 1, ms, 1000 / ms, reference_ms / ms))
    for k, result in batched.items():
        ms = float(np.median(result["seconds"]) * 1000)
        rows.append((f"videoanalyst, {k} targets in one forward", k, ms, 1000 * k / ms, reference_ms * k / ms))
    machine = f"{describe_machine()}, torch {torch.__version__}"
    if args.device.startswith("cuda"):
        machine += f", {torch.cuda.get_device_name()}"
    print(f"{args.exp} on {args.device} ({args.threads} threads; {machine}); {args.frames} frames 480x360")
    print(f"software: {describe_software()}")
    for mode, difference in differences.items():
        print(
            f"{mode}: max |box difference| to video_analyst over {len(difference)} frames: {difference.max():.2e} px "
            f"(frame {int(difference.argmax())}); within 1e-3 px on {np.mean(difference <= 1e-3):.0%} of frames"
        )
    print(f"{'tracker':44s} {'K':>3s} {'ms/frame':>9s} {'target-fps':>11s} {'x reference':>12s}")
    for name, k, ms, fps, ratio in rows:
        print(f"{name:44s} {k:3d} {ms:9.2f} {fps:11.1f} {ratio:12.2f}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps(
            {
                "exp": args.exp,
                "device": args.device,
                "threads": args.threads,
                **describe_run(),
                "weights": args.weights or f"randomize_(seed={args.seed})",
                "max_box_difference_px": {mode: float(d.max()) for mode, d in differences.items()},
                "rows": [
                    dict(zip(("tracker", "targets", "ms_per_frame", "target_fps", "speedup"), row)) for row in rows
                ],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
