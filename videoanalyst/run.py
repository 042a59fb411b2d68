"""``python -m videoanalyst.run PIPELINE.yaml [key.path=value ...]``: build and run a pipeline file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from videoanalyst.cli import print_listing, run_command
from videoanalyst.pipeline.build import run_pipeline
from videoanalyst.pipeline.config import yaml_description
from videoanalyst.pipeline.registry import REGISTRY, descriptions

#: The shipped pipelines, listed by `--list`.
PIPELINES_DIR = Path(__file__).resolve().parents[1] / "pipelines"

EPILOG = """examples:
  python -m videoanalyst.run pipelines/oracle_mot.yaml
  python -m videoanalyst.run pipelines/oracle_mot.yaml source.path=data/MOT17/train/MOT17-02-FRCNN output=runs/mot02
  python -m videoanalyst.run pipelines/oracle_mot.yaml stages.oracle_detector.jitter=0.1 profile_json=runs/profile.json
  python -m videoanalyst.run --list

types a block may name (or any package.module:ClassName):
""" + "\n".join(f"  {role + 's:':8s} {', '.join(sorted(names))}" for role, names in REGISTRY.items()) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m videoanalyst.run", description=__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipeline", nargs="?", help="pipeline YAML file (see pipelines/, or --list)")
    parser.add_argument("overrides", nargs="*", metavar="key.path=value",
                        help="override any setting, e.g. source.path=clip.mp4 output=runs/x stages.0.jitter=0.1")
    parser.add_argument("--list", action="store_true",
                        help="list the shipped pipelines and the types a block may name, then exit")
    args = parser.parse_args(argv)
    if args.list:
        _print_list()
        return 0
    if args.pipeline is None:
        parser.error("the following arguments are required: pipeline (or --list)")
    return run_command(lambda: _run(args.pipeline, args.overrides), "what the sinks wrote so far is kept")


def _run(pipeline: str, overrides: list[str]) -> int:
    report = run_pipeline(pipeline, overrides)
    frames = ", ".join(f"{name}: {count}" for name, count in report.frames.items())
    print(f"done: {sum(report.frames.values())} frames ({frames}); outputs in {report.output_dir}")
    return 0


def _print_list() -> None:
    """The shipped pipelines (by the path to give, from here) and every registered type, each with what it does."""
    pipelines = {}
    for path in sorted(PIPELINES_DIR.glob("*.yaml")):
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        pipelines[str(shown)] = yaml_description(path)
    print_listing("pipelines", pipelines)
    for role in REGISTRY:
        print_listing(f"{role} types ({role} `type:`)", descriptions(role))


if __name__ == "__main__":
    sys.exit(main())
