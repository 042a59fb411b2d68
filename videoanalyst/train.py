"""``python -m videoanalyst.train --exp NAME``: train SiamFC++ as a training experiment file says, on GOT-10k
folders or on synthetic scenes, with checkpoints to resume from; or, for a file with ``model: reid``, a ReID
embedding network on synthetic scenes.

The experiment is a YAML of `videoanalyst.training.config.TrainConfig` settings (``experiments/*_train.yaml``), or
of `videoanalyst.training.reid_config.ReidTrainConfig` settings (``experiments/reid_*_train.yaml``);
``key=value`` items override any of them. The output folder gets ``log.jsonl`` (losses), ``checkpoint.pt`` and, at
the end, ``final.pt`` (the network's weights, for ``python -m videoanalyst.track --weights``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from videoanalyst.cli import run_command
from videoanalyst.experiment_files import find_experiment
from videoanalyst.models.device import DEVICE_NAMES, check_device_name
from videoanalyst.pipeline.config import parse_overrides

EPILOG = """examples:
  python -m videoanalyst.train --exp siamfcpp_alexnet_synthetic_train
  python -m videoanalyst.train --exp siamfcpp_alexnet_synthetic_train --resume
  python -m videoanalyst.train --exp siamfcpp_alexnet_train --data data/GOT-10k/train --device cuda num_workers=8
  python -m videoanalyst.train --exp siamfcpp_alexnet_synthetic_train batch_size=8 num_epochs=2 --stop-at 100
  python -m videoanalyst.train --exp reid_resnet50_synthetic_train --device cuda
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m videoanalyst.train",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--exp",
        required=True,
        help="training experiment: a YAML path, or NAME for experiments/NAME.yaml (here, else in the repository)",
    )
    parser.add_argument("--data", help="GOT-10k split or sequence folder (sets data=; default: the experiment's)")
    parser.add_argument("--output", help="output folder (default: runs/train/EXP)")
    parser.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint.pt at its step")
    parser.add_argument("--device", help=f"{DEVICE_NAMES} (sets device=; auto: CUDA when there is a GPU)")
    parser.add_argument(
        "--stop-at",
        type=int,
        metavar="STEP",
        help="stop after this many iterations in all, with a checkpoint; continue later with --resume",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="override any setting, e.g. batch_size=16")
    args = parser.parse_args(argv)
    if args.stop_at is not None and args.stop_at < 1:
        parser.error(f"--stop-at: expected an iteration >= 1, got {args.stop_at}")
    output = Path(args.output) if args.output else Path("runs") / "train" / Path(args.exp).stem
    return run_command(
        lambda: _train(args, output), f"the last checkpoint in {output}, if any, is kept; continue with --resume"
    )


def _train(args: argparse.Namespace, output: Path) -> int:
    """Check the names (before the heavy imports), load and check the experiment, train."""
    path = find_experiment(args.exp, training=True)
    overrides = dict(parse_overrides(args.overrides, "command line"))
    overrides.update({key: value for key, value in (("data", args.data), ("device", args.device)) if value is not None})
    if "device" in overrides:
        check_device_name(overrides["device"], "--device" if args.device is not None else "command line: device")

    from videoanalyst.training.checkpoints import FINAL_NAME, LOG_NAME
    from videoanalyst.training.config import load_train_config
    from videoanalyst.training.reid_config import is_reid_experiment, load_reid_train_config
    from videoanalyst.training.reid_trainer import train_reid
    from videoanalyst.training.trainer import train

    load, run = (load_reid_train_config, train_reid) if is_reid_experiment(path) else (load_train_config, train)
    config = load(path, overrides)
    step = run(config, output, resume=args.resume, stop_at=args.stop_at, progress=not args.no_progress)
    if step < config.total_iterations:
        print(f"stopped at iteration {step} of {config.total_iterations}; continue with --resume --output {output}")
    else:
        print(f"done: {step} iterations; weights in {output / FINAL_NAME}, losses in {output / LOG_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
