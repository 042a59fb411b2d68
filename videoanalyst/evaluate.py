"""``python -m videoanalyst.evaluate {got10k,ope,vot,mot} --gt DIR --results DIR``: score the result files of one or
more trackers as the official toolkits would, trackers side by side; with ``--exp``, first run that tracker over
the data set, writing its files in the benchmark's layout under ``RESULTS/NAME``.

Running is resumable (sequences whose files are complete are skipped; a crash or Ctrl-C loses at most the sequences
in progress: run the same command again) and is sharded when torchrun starts the command: process r of N tracks
sequences r, r + N, r + 2N..., all write into the same folder, and process 0 alone scores them once all are done.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from videoanalyst.cli import print_listing, run_command
from videoanalyst.errors import InputError
from videoanalyst.experiment_files import experiment_descriptions, find_experiment
from videoanalyst.models.device import DEVICE_NAMES, check_device_name

if TYPE_CHECKING:
    from videoanalyst.evaluators.shards import Shard
    from videoanalyst.experiments import Experiment

#: The benchmarks, with what each scores.
BENCHMARKS = {
    "got10k": "GOT-10k: average overlap, success rates at 0.5 and 0.75 (the got10k toolkit's ExperimentGOT10k)",
    "ope": "one-pass evaluation (OTB, UAV123, LaSOT layouts): success and precision plots (ExperimentOTB)",
    "vot": "VOT supervised: accuracy, robustness, EAO (vot-toolkit 0.9)",
    "mot": "MOTChallenge: HOTA (TrackEval), CLEAR and identity metrics (motmetrics)",
}
#: Benchmarks a tracker can be run on (there is no multi-object tracker to run yet).
RUNNABLE = ("got10k", "ope", "vot")

EPILOG = """examples:
  python -m videoanalyst.evaluate got10k --gt data/GOT-10k/val --results results/GOT-10k
  python -m videoanalyst.evaluate ope --gt data/OTB100 --results results/OTB100 --tracker SiamFCpp ECO --per-sequence
  python -m videoanalyst.evaluate vot --gt data/vot2018/sequences --results results/vot2018 --eao-interval 100 356
  python -m videoanalyst.evaluate mot --gt data/MOT17/train --results results/MOT17 --json mot.json
  python -m videoanalyst.evaluate got10k --gt data/GOT-10k/val --results results/GOT-10k --exp siamfcpp_alexnet_got
  torchrun --standalone --nproc_per_node 2 -m videoanalyst.evaluate got10k --gt data/GOT-10k/val \\
      --results results/GOT-10k --exp siamfcpp_googlenet_got --device cuda
  python -m videoanalyst.evaluate --list
"""


def _log(line: str) -> None:
    """A progress line on stderr, at once (several processes share the terminal)."""
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        print_listing("benchmarks", BENCHMARKS)
        print_listing(f"experiments (--exp, on {', '.join(RUNNABLE)})", experiment_descriptions(training=False))
        return 0
    _check(parser, args)
    return run_command(
        lambda: _evaluate(args), "the sequences finished so far are kept; run the same command again to go on"
    )


def _evaluate(args: argparse.Namespace) -> int:
    """Check the names and paths (before the heavy imports), then run the tracker if asked, then score."""
    if not args.gt.exists():
        raise InputError(f"--gt: {args.gt}: no such data-set folder")
    if args.exp is not None:
        find_experiment(args.exp, training=False)
        check_device_name(args.device, "--device")
    elif not args.results.is_dir():
        raise InputError(f"--results: {args.results}: no such results folder")

    from videoanalyst.evaluators.shards import process_group, wait_for_all
    from videoanalyst.experiments import load_experiment
    from videoanalyst.models.device import pick_device

    experiment = None
    if args.exp is not None:
        experiment = load_experiment(args.exp)  # checked before any process group is joined or file written
        args.device = str(pick_device(args.device, "--device"))  # auto resolved; under torchrun cuda: the rank's GPU
    with process_group(args.device) as shard:
        if experiment is not None:
            _run_tracker(args, experiment, shard)
            wait_for_all()
        if shard.is_main:
            _report(args)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m videoanalyst.evaluate",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("benchmark", nargs="?", choices=list(BENCHMARKS), help="protocol and result layout")
    parser.add_argument("--gt", type=Path, metavar="DIR", help="data set: a split folder or one sequence folder")
    parser.add_argument("--results", type=Path, metavar="DIR", help="results folder, one folder a tracker")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and the experiments, then exit")
    parser.add_argument(
        "--tracker", nargs="+", action="extend", metavar="NAME", help="tracker folders to score (default: all)"
    )
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help="report as JSON (default: RESULTS/<benchmark>_report.json)"
    )
    parser.add_argument("--plots", type=Path, metavar="DIR", help="plots folder, not for mot (default: RESULTS/plots)")
    parser.add_argument("--per-sequence", action="store_true", help="also print a table of sequences one a row")
    parser.add_argument(
        "--eao-interval",
        nargs=2,
        type=int,
        metavar=("LOW", "HIGH"),
        help="vot: sequence lengths the EAO averages over (default: VOT2018's)",
    )
    parser.add_argument(
        "--nan-gt",
        choices=("fail", "drop"),
        help="ope: frames whose true box is NaN fail (OTB, the default) or are left out (UAV123)",
    )
    run = parser.add_argument_group("running a tracker first (got10k, ope, vot)")
    run.add_argument("--exp", help="experiment name in experiments/, or a YAML path: run its tracker over --gt")
    run.add_argument("--weights", metavar="FILE", help="weights file (default: the experiment's)")
    run.add_argument(
        "--device", help=f"{DEVICE_NAMES} (default cpu; auto: CUDA when there is a GPU; under torchrun cuda is "
        "cuda:LOCAL_RANK)"
    )
    run.add_argument("--name", metavar="TRACKER_NAME", help="folder of its results (default: the experiment's name)")
    run.add_argument(
        "--repetitions",
        type=int,
        metavar="N",
        help="vot: runs a sequence, stopping after 3 identical ones (default: VOT2018's)",
    )
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse option combinations that cannot apply, before anything runs; fill in the defaults that depend on
    others."""
    missing = [name for name, value in (("benchmark", args.benchmark), ("--gt", args.gt), ("--results", args.results))
               if value is None]
    if missing:
        parser.error(f"the following arguments are required: {', '.join(missing)} (or --list)")
    if args.exp is None:
        given = [f"--{key}" for key in ("weights", "device", "name", "repetitions") if getattr(args, key) is not None]
        if given:
            parser.error(f"{', '.join(given)}: only with --exp, which runs a tracker")
    elif args.benchmark not in RUNNABLE:
        parser.error(
            f"--exp: there is no {args.benchmark} tracker to run; run one with --exp on {', '.join(RUNNABLE)}, or "
            f"score {args.benchmark} result files without --exp"
        )
    if args.eao_interval is not None and (
        args.benchmark != "vot" or not 0 <= args.eao_interval[0] <= args.eao_interval[1]
    ):
        parser.error(f"--eao-interval: expected 0 <= LOW <= HIGH for vot, got {args.benchmark} {args.eao_interval}")
    if args.nan_gt is not None and args.benchmark != "ope":
        parser.error(f"--nan-gt: only for ope, got {args.benchmark}")
    if args.repetitions is not None and (args.benchmark != "vot" or args.repetitions < 1):
        parser.error(f"--repetitions: expected N >= 1 for vot, got {args.benchmark} {args.repetitions}")
    if args.name is not None and (Path(args.name).name != args.name or args.name in (".", "..")):
        parser.error(f"--name: expected a folder name, got {args.name!r}")
    args.device = args.device or "cpu"
    args.json = args.json or args.results / f"{args.benchmark}_report.json"
    args.plots = args.plots or args.results / "plots"


def _run_tracker(args: argparse.Namespace, experiment: Experiment, shard: Shard) -> None:
    """Run the experiment's tracker over this process's share of the data set, resuming."""
    from videoanalyst.evaluators.run_tracker import read_sot_sequences, run_sot_dataset, run_vot_dataset
    from videoanalyst.evaluators.vot import VOT2018_REPETITIONS
    from videoanalyst.trackers.one_target import OneTarget

    name = args.name or experiment.name

    def make_tracker() -> OneTarget:
        tracker, _ = experiment.build_tracker(args.weights, shard.device(args.device), quiet=not shard.is_main)
        return OneTarget(tracker)

    if args.benchmark == "vot":
        repetitions = args.repetitions or VOT2018_REPETITIONS
        names = run_vot_dataset(make_tracker, name, args.gt, args.results, shard, repetitions)
        _log(f"{shard.label}{len(names)} sequences run or found complete: {', '.join(names)}")
        return
    summary = run_sot_dataset(
        make_tracker, read_sot_sequences(args.benchmark, args.gt), args.results / name, args.benchmark, shard, _log
    )
    _log(
        f"{shard.label}{len(summary.tracked)} sequences tracked, {len(summary.skipped)} found complete "
        f"({', '.join(summary.skipped) or 'none'}); results in {args.results / name}"
    )


def _report(args: argparse.Namespace) -> None:
    """Score the trackers, print the table, write the JSON and the plots."""
    from videoanalyst.evaluators import evaluate_got10k, evaluate_mot, evaluate_ope, evaluate_vot
    from videoanalyst.evaluators.vot import VOT2018_EAO_INTERVAL

    trackers = _trackers(args.results, args.plots, args.tracker)
    if args.benchmark == "got10k":
        report = evaluate_got10k(args.gt, args.results, trackers)
    elif args.benchmark == "ope":
        report = evaluate_ope(args.gt, args.results, trackers, nan_gt=args.nan_gt or "fail")
    elif args.benchmark == "vot":
        report = evaluate_vot(
            args.gt, args.results, trackers, eao_interval=tuple(args.eao_interval or VOT2018_EAO_INTERVAL)
        )
    else:
        report = evaluate_mot(args.gt, args.results, trackers)
    print(report.table(per_sequence=args.per_sequence).rstrip("\n"))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    written = f"report in {args.json}"
    if args.benchmark != "mot":
        report.write_plots(args.plots)
        written += f", plots in {args.plots}"
    print(written)


def _trackers(results: Path, plots: Path, named: list[str] | None) -> list[str]:
    """The trackers to score: those `named`, else every tracker folder in `results`, by name (its sub-folders but
    the plots folder written there).

    Raises:
        InputError: naming the folder when it is missing, holds no tracker folder or not a named one (listing the
            trackers there).
    """
    if not results.is_dir():
        raise InputError(f"{results}: no such results folder")
    names = sorted(f.name for f in results.iterdir() if f.is_dir() and f.resolve() != plots.resolve())
    if not names:
        raise InputError(f"{results}: no tracker folders in the results folder (expected one folder a tracker)")
    for name in named or ():
        if name not in names:
            raise InputError(f"{results}: no results of tracker {name!r}; there are: {', '.join(names)}")
    return named or names


if __name__ == "__main__":
    sys.exit(main())
