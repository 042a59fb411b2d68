"""``python -m videoanalyst.run PIPELINE.yaml [key.path=value ...]``: build and run a pipeline file."""

from __future__ import annotations

import argparse
import sys

from videoanalyst.errors import VideoAnalystError
from videoanalyst.pipeline.build import run_pipeline
from videoanalyst.pipeline.registry import REGISTRY

EPILOG = """examples:
  python -m videoanalyst.run pipelines/oracle_mot.yaml
  python -m videoanalyst.run pipelines/oracle_mot.yaml source.path=data/MOT17/train/MOT17-02-FRCNN output=runs/mot02
  python -m videoanalyst.run pipelines/oracle_mot.yaml stages.oracle_detector.jitter=0.1 profile_json=runs/profile.json

types a block may name (or any package.module:ClassName):
""" + "\n".join(f"  {role + 's:':8s} {', '.join(sorted(names))}" for role, names in REGISTRY.items()) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m videoanalyst.run", description=__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipeline", help="pipeline YAML file (see pipelines/)")
    parser.add_argument("overrides", nargs="*", metavar="key.path=value",
                        help="override any setting, e.g. source.path=clip.mp4 output=runs/x stages.0.jitter=0.1")
    args = parser.parse_args(argv)
    try:
        report = run_pipeline(args.pipeline, args.overrides)
    except VideoAnalystError as error:
        print(f"error: {error}", *getattr(error, "__notes__", ()), sep="\n  ", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what the sinks wrote so far is kept", file=sys.stderr)
        return 130
    frames = ", ".join(f"{name}: {count}" for name, count in report.frames.items())
    print(f"done: {sum(report.frames.values())} frames ({frames}); outputs in {report.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
