"""How fast `VideoSource` delivers RGB frames, next to the ffmpeg command line and a naive PyAV loop.

Run from the repository root:

    python evaluation/decode_speed.py                   # makes a 1080p H.264 clip of 300 frames in a temp folder
    python evaluation/decode_speed.py --clip my.mp4 --repeats 7 --json decode_speed.json

Each contender decodes the whole clip to RGB24 `--repeats` times, interleaved so that machine noise hits all
alike; the table gives the median frames per second and the ratio to ``ffmpeg -i clip -pix_fmt rgb24 -f null -``
(whole process, start-up included). The reference is the ``ffmpeg`` on PATH (e.g. Debian's), else the static build
that the ``imageio-ffmpeg`` package ships (``pip install -e ".[test]"`` installs it); ``--ffmpeg`` picks another.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import imageio_ffmpeg
from machine import describe_machine, describe_run, describe_software

from videoanalyst.sources.video import VideoSource


def default_ffmpeg() -> str:
    """The ffmpeg on PATH, else the static build shipped in the imageio-ffmpeg wheel."""
    return shutil.which("ffmpeg") or imageio_ffmpeg.get_ffmpeg_exe()


def make_clip(ffmpeg: str, path: Path, frames: int) -> None:
    """A 1920x1080 30 fps H.264 clip (~7 Mbit/s): a moving test pattern under film-grain noise, not trivial to code."""
    subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc2=size=1920x1080:rate=30,noise=alls=12:allf=t+u", "-frames:v", str(frames),
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", str(path)],
                   check=True)


def ffmpeg_cli(ffmpeg: str, clip: Path) -> int:
    progress = subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-progress", "pipe:1", "-i", str(clip),
                               "-pix_fmt", "rgb24", "-f", "null", "-"], check=True, capture_output=True, text=True)
    return int([line for line in progress.stdout.splitlines() if line.startswith("frame=")][-1].split("=")[1])


def video_source(clip: Path) -> int:
    count = 0
    for stream in VideoSource(str(clip)).streams():
        for packet in stream:
            packet.image[-1, -1, 0]  # touch the frame: it must exist in memory as RGB
            count += 1
        stream.close()
    return count


def naive_pyav(clip: Path) -> int:
    count = 0
    with av.open(str(clip)) as container:
        for frame in container.decode(video=0):
            frame.to_ndarray(format="rgb24")[-1, -1, 0]
            count += 1
    return count



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, help="video to decode; default: make a 1080p H.264 clip")
    parser.add_argument("--frames", type=int, default=300, help="length of the clip made when --clip is not given")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each contender")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--ffmpeg", default=default_ffmpeg(), help="the ffmpeg executable to compare with")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        clip = args.clip
        if clip is None:
            clip = Path(folder) / "clip_1080p.mp4"
            make_clip(args.ffmpeg, clip, args.frames)
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            clip_text = f"{clip.name}: {stream.width}x{stream.height} {stream.codec_context.name}, " \
                        f"{stream.frames} frames, {stream.bit_rate / 1e6:.1f} Mbit/s"
        contenders: dict[str, Callable[[Path], int]] = {
            "ffmpeg -pix_fmt rgb24 -f null": lambda path: ffmpeg_cli(args.ffmpeg, path),
            "VideoSource": video_source,
            "naive PyAV to_ndarray": naive_pyav,
        }
        fps: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.repeats):
            for name, run in contenders.items():
                start = time.perf_counter()
                frames = run(clip)
                fps[name].append(frames / (time.perf_counter() - start))

    ffmpeg_version = subprocess.run([args.ffmpeg, "-version"], capture_output=True, text=True).stdout.split()[2]
    medians = {name: statistics.median(values) for name, values in fps.items()}
    reference = medians["ffmpeg -pix_fmt rgb24 -f null"]
    print(f"machine: {describe_machine()}")
    print(f"software: {describe_software()}")
    print(f"clip:    {clip_text}")
    print(f"ffmpeg CLI {ffmpeg_version} ({args.ffmpeg}), PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info}), "
          f"median of {args.repeats} runs")
    print(f"{'contender':32s} {'frames/s':>9s} {'vs ffmpeg':>9s}   runs")
    for name, median in medians.items():
        runs = " ".join(f"{value:.0f}" for value in fps[name])
        print(f"{name:32s} {median:9.1f} {median / reference:9.2f}   {runs}")
    if args.json:
        args.json.write_text(json.dumps({
            **describe_run(), "clip": clip_text, "ffmpeg_cli": ffmpeg_version, "pyav": av.__version__,
            "repeats": args.repeats, "fps_median": medians, "fps_runs": fps,
            "ratio_to_ffmpeg": {name: median / reference for name, median in medians.items()},
        }, indent=2))


if __name__ == "__main__":
    main()
