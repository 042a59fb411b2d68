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

import torch

from videoanalyst.errors import InputError, VideoAnalystError
from videoanalyst.evaluators import evaluate_got10k, evaluate_mot, evaluate_ope, evaluate_vot
from videoanalyst.evaluators.run_tracker import read_sot_sequences, run_sot_dataset, run_vot_dataset
from videoanalyst.evaluators.shards import Shard, process_group, wait_for_all
from videoanalyst.evaluators.vot import VOT2018_EAO_INTERVAL, VOT2018_REPETITIONS
from videoanalyst.experiments import load_experiment
from videoanalyst.trackers.one_target import OneTarget

BENCHMARKS = ("got10k", "ope", "vot", "mot")
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
"""


def _log(line: str) -> None:
    """A progress line on stderr, at once (several processes share the terminal)."""
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    try:
        with process_group(args.device) as shard:
            if args.exp is not None:
                _run_tracker(args, shard)
                wait_for_all()
            if shard.is_main:
                _report(args)
    except VideoAnalystError as error:
        print(f"error: {error}", *getattr(error, "__notes__", ()), sep="\n  ", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "interrupted: the sequences finished so far are kept; run the same command again to go on", file=sys.stderr
        )
        return 130
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m videoanalyst.evaluate",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("benchmark", choices=BENCHMARKS, help="protocol and result layout")
    parser.add_argument(
        "--gt", required=True, type=Path, metavar="DIR", help="data set: a split folder or one sequence folder"
    )
    parser.add_argument(
        "--results", required=True, type=Path, metavar="DIR", help="results folder, one folder a tracker"
    )
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
        help=f"vot: sequence lengths the EAO averages over (default: VOT2018's {VOT2018_EAO_INTERVAL[0]} "
        f"{VOT2018_EAO_INTERVAL[1]})",
    )
    parser.add_argument(
        "--nan-gt",
        choices=("fail", "drop"),
        help="ope: frames whose true box is NaN fail (OTB, the default) or are left out (UAV123)",
    )
    run = parser.add_argument_group("running a tracker first (got10k, ope, vot)")
    run.add_argument("--exp", help="experiment name in experiments/, or a YAML path: run its tracker over --gt")
    run.add_argument("--weights", metavar="FILE", help="weights file (default: the experiment's)")
    run.add_argument("--device", help="cpu (default), cuda (under torchrun: cuda:LOCAL_RANK) or cuda:N")
    run.add_argument("--name", metavar="TRACKER_NAME", help="folder of its results (default: the experiment's name)")
    run.add_argument(
        "--repetitions",
        type=int,
        metavar="N",
        help=f"vot: runs a sequence, stopping after 3 identical ones (default: VOT2018's {VOT2018_REPETITIONS})",
    )
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse option combinations that cannot apply, before anything runs; fill in the defaults that depend on
    others."""
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
    try:
        torch.device(args.device)
    except RuntimeError:
        parser.error(f"--device: expected cpu, cuda or cuda:N, got {args.device!r}")
    args.json = args.json or args.results / f"{args.benchmark}_report.json"
    args.plots = args.plots or args.results / "plots"


def _run_tracker(args: argparse.Namespace, shard: Shard) -> None:
    """Run the experiment's tracker over this process's share of the data set, resuming."""
    experiment = load_experiment(args.exp)
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
    trackers = args.tracker or _tracker_names(args.results, args.plots)
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


def _tracker_names(results: Path, plots: Path) -> list[str]:
    """Every tracker folder in `results`, by name: its sub-folders but the plots folder written there.

    Raises:
        InputError: naming the folder when it is missing or holds no tracker folder.
    """
    if not results.is_dir():
        raise InputError(f"{results}: no such results folder")
    names = sorted(f.name for f in results.iterdir() if f.is_dir() and f.resolve() != plots.resolve())
    if not names:
        raise InputError(f"{results}: no tracker folders in the results folder (expected one folder a tracker)")
    return names


if __name__ == "__main__":
    sys.exit(main())
