"""``python -m videoanalyst.track --exp siamfcpp_alexnet``: track one target through a video and see it.

With no `--video` it runs on the built-in synthetic clip, starting from its ground truth; with `--video` it tracks
any video file, stream URL or folder of images from `--init x,y,w,h`. It writes an annotated video and the
``x,y,w,h`` rows, prints the per-stage profile, and, when the input has ground truth, how well the target was kept.
``BLOCK.KEY=value`` items change the experiment's settings (``tracker.exact=true``) without a copy of its file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from videoanalyst.cli import print_listing, run_command
from videoanalyst.errors import ConfigError
from videoanalyst.experiment_files import experiment_descriptions, find_experiment
from videoanalyst.models.device import DEVICE_NAMES, check_device_name
from videoanalyst.pipeline.config import parse_overrides

EPILOG = """examples:
  python -m videoanalyst.track --exp siamfcpp_alexnet
  python -m videoanalyst.track --exp siamfcpp_alexnet --video clip.mp4 --init 120,80,40,60 --save-results boxes.txt
  python -m videoanalyst.track --exp siamfcpp_googlenet_got --video data/GOT-10k/val/GOT-10k_Val_000001 \\
      --weights siamfcpp-googlenet-got-md5_e182dc4c3823427022eccf7313d740a7.pkl --device cuda
  python -m videoanalyst.track --exp siamfcpp_alexnet tracker.exact=true
  python -m videoanalyst.track --list
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m videoanalyst.track",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--exp", default="siamfcpp_alexnet", help="experiment name in experiments/, or a YAML path")
    parser.add_argument("--video", help="video file, stream URL, or folder of images (default: the built-in clip)")
    parser.add_argument("--init", help="initial box x,y,w,h (default: the input's first ground-truth box)")
    parser.add_argument("--weights", help="weights file, e.g. an official siamfcpp-*-md5_*.pkl")
    parser.add_argument("--device", default="cpu", help=f"{DEVICE_NAMES} (auto: CUDA when there is a GPU)")
    parser.add_argument(
        "--save-results", metavar="FILE", help="where to write the x,y,w,h rows (default: OUTPUT/results.txt)"
    )
    parser.add_argument("--output", default=None, help="output folder (default: runs/track/EXP)")
    parser.add_argument("--list", action="store_true", help="list the experiments --exp takes, then exit")
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="BLOCK.KEY=value",
        help="change a setting of the experiment, e.g. tracker.exact=true (blocks: model, tracker, weights)",
    )
    args = parser.parse_args(argv)
    if args.list:
        print_listing("experiments (--exp)", experiment_descriptions(training=False))
        return 0
    return run_command(lambda: _track(args), "the rows and video written so far are kept")


def _track(args: argparse.Namespace) -> int:
    """Check the arguments (names and paths before the heavy imports), run the pipeline, report."""
    find_experiment(args.exp, training=False)
    init = None if args.init is None else [_parse_box(args.init)]
    check_device_name(args.device, "--device")
    overrides = dict(parse_overrides(args.overrides, "command line"))
    if args.video is not None and "://" not in args.video and not Path(args.video).exists():
        raise ConfigError(f"--video: {args.video}: no such file or folder")
    if args.weights is not None and not Path(args.weights).expanduser().is_file():
        raise ConfigError(f"--weights: {args.weights}: no such weights file")

    from videoanalyst.experiments import load_experiment
    from videoanalyst.formats.number_rows import read_number_rows
    from videoanalyst.models.device import pick_device
    from videoanalyst.pipeline.build import run_pipeline

    load_experiment(args.exp, overrides)  # its settings, the overrides included, checked before any file is opened
    pick_device(args.device, "--device")
    pipeline, truth = _pipeline(args, init, overrides)
    report = run_pipeline(pipeline, label=f"track --exp {args.exp}")
    results = Path(pipeline["sinks"][1]["file"])
    print(f"done: {sum(report.frames.values())} frames; video and results in {report.output_dir}, rows in {results}")
    if truth is not None:
        print(_kept_summary(read_number_rows(results, (4,)), truth))
    return 0


def _pipeline(
    args: argparse.Namespace, init: list[list[float]] | None, overrides: dict[str, Any]
) -> tuple[dict[str, Any], np.ndarray | None]:
    """The pipeline this command runs, and the ground truth to compare with (None when the input has none)."""
    output = Path(args.output or Path("runs") / "track" / Path(args.exp).stem)
    source, truth = _source(args.video)
    if init is None and truth is None:
        raise ConfigError(f"{args.video}: no ground truth to start from; give the target with --init x,y,w,h")
    results = Path(args.save_results).resolve() if args.save_results else (output / "results.txt").resolve()
    stage = {"type": "siamfcpp", "experiment": args.exp, "weights": args.weights, "init": init, "device": args.device}
    pipeline = {
        "source": source,
        "stages": [{**stage, "experiment_overrides": overrides}],
        "sinks": [
            {"type": "annotated_video", "draw_ground_truth": truth is not None},
            {"type": "target_txt", "file": str(results)},
        ],
        "output": str(output),
    }
    return pipeline, truth


def _source(video: str | None) -> tuple[dict[str, Any], np.ndarray | None]:
    from videoanalyst.synthetic.export import builtin_clip

    if video is None:
        folder = builtin_clip("got10k")
        return {"type": "got10k", "path": str(folder)}, _ground_truth(folder)
    path = Path(video)
    if path.is_dir():
        if (path / "groundtruth.txt").is_file():
            return {"type": "got10k", "path": video}, _ground_truth(path)
        return {"type": "image_folder", "path": video}, None
    return {"type": "video", "path": video}, None


def _ground_truth(folder: Path) -> np.ndarray:
    from videoanalyst.formats.got10k import read_got10k_groundtruth

    frames = sum(1 for p in folder.iterdir() if p.suffix == ".jpg")
    return read_got10k_groundtruth(folder / "groundtruth.txt", frames)


def _parse_box(text: str) -> list[float]:
    try:
        box = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        box = []
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise ConfigError(f"--init: expected x,y,w,h with a positive width and height, got {text!r}")
    return box


def _kept_summary(boxes: np.ndarray, truth: np.ndarray) -> str:
    """How well the target was kept: IoU with the ground truth over the frames after the first."""
    from videoanalyst.evaluators.success import box_iou

    frames = min(len(boxes), len(truth))
    overlaps = box_iou(boxes[1:frames], truth[1:frames])
    valid = ~np.isnan(overlaps)
    kept = np.mean(overlaps[valid] >= 0.5) if valid.any() else float("nan")
    return (
        f"target kept (IoU >= 0.5 with the ground truth) on {kept:.1%} of {valid.sum()} frames; "
        f"mean IoU {np.mean(overlaps[valid]):.3f}"
    )


if __name__ == "__main__":
    sys.exit(main())
