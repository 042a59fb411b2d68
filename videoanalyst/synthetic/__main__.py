"""Write synthetic scenes as a data set: ``python -m videoanalyst.synthetic --layout mot17 --out data/synthetic``.

Settings left out keep `SceneConfig`'s defaults.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from videoanalyst.errors import VideoAnalystError
from videoanalyst.synthetic.export import WRITERS, export_dataset
from videoanalyst.synthetic.scene import SceneConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videoanalyst.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("--layout", required=True, choices=sorted(WRITERS))
    parser.add_argument("--out", required=True, type=Path,
                        help="folder for the sequence folders (GOT-10k split, VOT 'sequences', MOT17 split folder)")
    parser.add_argument("--sequences", type=int, default=1, help="number of scenes; scene k uses seed + k")
    parser.add_argument("--frames", type=int, dest="num_frames")
    parser.add_argument("--objects", type=int, dest="num_objects")
    parser.add_argument("--size", type=_size, help="frame size WxH, e.g. 640x480")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--camera-pan", action="store_true", default=None, dest="camera_pan")
    args = parser.parse_args(argv)
    settings = {key: getattr(args, key) for key in ("num_frames", "num_objects", "seed", "camera_pan")}
    if args.size:
        settings["width"], settings["height"] = args.size
    config = replace(SceneConfig(), **{key: value for key, value in settings.items() if value is not None})
    try:
        folders = export_dataset(args.layout, args.out, config, args.sequences)
    except VideoAnalystError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for folder in folders:
        print(folder)
    return 0


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"expected WxH such as 640x480, got {text!r}")
    return int(width), int(height)


if __name__ == "__main__":
    sys.exit(main())
