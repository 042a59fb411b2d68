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

from videoanalyst.errors import VideoAnalystError
from videoanalyst.experiments import find_experiment
from videoanalyst.training.checkpoints import FINAL_NAME, LOG_NAME
from videoanalyst.training.config import load_train_config, parse_overrides
from videoanalyst.training.reid_config import is_reid_experiment, load_reid_train_config
from videoanalyst.training.reid_trainer import train_reid
from videoanalyst.training.trainer import train

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
    parser.add_argument("--device", help="cpu, cuda or cuda:N (sets device=)")
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
    output = Path(args.output) if args.output else None
    try:
        path = find_experiment(args.exp)
        overrides = parse_overrides(args.overrides)
        overrides.update(
            {key: value for key, value in (("data", args.data), ("device", args.device)) if value is not None}
        )
        load, run = (load_reid_train_config, train_reid) if is_reid_experiment(path) else (load_train_config, train)
        config = load(path, overrides)
        output = output or Path("runs") / "train" / path.stem
        step = run(config, output, resume=args.resume, stop_at=args.stop_at, progress=not args.no_progress)
    except VideoAnalystError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        kept = f"the last checkpoint in {output} is kept; continue with --resume" if output else "nothing written"
        print(f"interrupted: {kept}", file=sys.stderr)
        return 130
    if step < config.total_iterations:
        print(f"stopped at iteration {step} of {config.total_iterations}; continue with --resume --output {output}")
    else:
        print(f"done: {step} iterations; weights in {output / FINAL_NAME}, losses in {output / LOG_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
