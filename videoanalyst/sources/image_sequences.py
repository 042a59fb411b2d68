"""What the data-set sources (GOT-10k, VOT, MOT17) share: finding sequence folders, picking frames, decoding images
in a background thread, and attaching each frame's ground truth."""

from __future__ import annotations

import abc
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from videoanalyst.core.packet import GROUND_TRUTH, FramePacket
from videoanalyst.core.stage import Source, Stream, StreamInfo
from videoanalyst.errors import InputError
from videoanalyst.sources.prefetch import Prefetcher
from videoanalyst.synthetic.export import builtin_clip

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class ImageSequence:
    """One sequence folder as read from disk.

    Args:
        name: the stream id (the folder name).
        images: the frames' image files, in order.
        ground_truth: one entry a frame (`Detections` or `TargetState`), None where the frame has none.
        fps: nominal frame rate, None when the layout's files do not say.
    """

    name: str
    images: list[Path]
    ground_truth: list[Any]
    fps: float | None


class ImageSequenceSource(Source):
    """Streams of the sequence folders under `path`, one at a time, images decoded ahead in a background thread.

    Args:
        path: one sequence folder, or a folder holding many (listed in its ``list.txt``, else all sequence folders
            in name order); None: the built-in synthetic clip in this layout.
        sequences: names of the sequences to stream, in this order; None: all.
        queue_size: decoded frames kept ready ahead of the pipeline.
        start, stop, stride: frame range ``frames[start:stop:stride]`` of every sequence; packets keep each
            frame's index in its sequence, and its timestamp index / fps (0 where the layout gives no fps).
    """

    #: Layout name, as `videoanalyst.synthetic.export.builtin_clip` knows it.
    layout: ClassVar[str]

    def __init__(self, path: str | None = None, sequences: list[str] | None = None, queue_size: int = 8,
                 start: int = 0, stop: int | None = None, stride: int = 1) -> None:
        if queue_size < 1 or start < 0 or stride < 1:
            raise ValueError(f"{self.layout}: need queue_size >= 1, start >= 0, stride >= 1; "
                             f"got {queue_size}, {start}, {stride}")
        folder = builtin_clip(self.layout) if path is None else Path(path)
        if not folder.is_dir():
            raise InputError(f"{folder}: no such {self.layout} sequence or data-set folder")
        self.folders = _pick(self._sequence_folders(folder), sequences, folder)
        self.queue_size = queue_size
        self.frames = slice(start, stop, stride)

    @abc.abstractmethod
    def is_sequence(self, folder: Path) -> bool:
        """Whether `folder` is one sequence of this layout (rather than a folder of sequences)."""

    @abc.abstractmethod
    def image_files(self, folder: Path) -> list[Path]:
        """The frames' image files of one sequence folder, in order (a folder listing: nothing is decoded)."""

    @abc.abstractmethod
    def read_sequence(self, folder: Path) -> ImageSequence:
        """The image files, per-frame ground truth and frame rate of one sequence folder."""

    def total_frames(self) -> int:
        """Frames of all the sequences within the frame range, from their folder listings."""
        return sum(len(range(len(self.image_files(folder)))[self.frames]) for folder in self.folders)

    def streams(self) -> Iterator[Stream]:
        for folder in self.folders:
            sequence = self.read_sequence(folder)
            indices = range(len(sequence.images))[self.frames]
            height, width = read_image(sequence.images[0]).shape[:2]
            info = StreamInfo(sequence.name, width, height, fps=sequence.fps, num_frames=len(indices),
                              path=str(folder))
            packets = Prefetcher(_packets(sequence, indices, (width, height)), depth=self.queue_size,
                                 name=f"decode-{sequence.name}")
            yield Stream(info, packets, close=packets.close)

    def _sequence_folders(self, folder: Path) -> list[Path]:
        if self.is_sequence(folder):
            return [folder]
        listing = folder / "list.txt"
        if listing.is_file():
            folders = [folder / name.strip() for name in listing.read_text().splitlines() if name.strip()]
            missing = [str(f) for f in folders if not f.is_dir()]
            if missing:
                raise InputError(f"{listing}: names sequence folders that do not exist: {', '.join(missing[:5])}")
            return folders
        folders = sorted(f for f in folder.iterdir() if f.is_dir() and self.is_sequence(f))
        if not folders:
            raise InputError(f"{folder}: neither a {self.layout} sequence folder nor a folder of them")
        return folders


def list_images(folder: Path, suffix: str | None = None) -> list[Path]:
    """The image files directly in `folder` (of `suffix`, else of any common image suffix), sorted by name.

    Raises:
        InputError: naming the folder when it is missing or holds no such images.
    """
    suffixes = (suffix.lower(),) if suffix else IMAGE_SUFFIXES
    if not folder.is_dir():
        raise InputError(f"{folder}: no such image folder")
    with os.scandir(folder) as entries:  # a listing, no stat per file: counting a data set's frames stays cheap
        names = sorted(e.name for e in entries if os.path.splitext(e.name)[1].lower() in suffixes and e.is_file())
    if not names:
        raise InputError(f"{folder}: no {' / '.join(suffixes)} images in the sequence folder")
    return [folder / name for name in names]


def read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels of an image file, in a writable array of its own: `torch.from_numpy` takes it
    without a copy or a warning (trackers driven by `videoanalyst.evaluators.run_tracker` get it as it is).

    Raises:
        InputError: naming the file when it is missing, unreadable or corrupt.
    """
    try:
        with Image.open(path) as image:
            # np.array, not np.asarray (a read-only view of Pillow's bytes); its copy replaces the one `convert`
            # makes of an image already RGB, so reading costs no more
            return np.array(image if image.mode == "RGB" else image.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise InputError(f"{path}: cannot read the image ({error})") from None


def _packets(sequence: ImageSequence, indices: Sequence[int], size: tuple[int, int]) -> Iterator[FramePacket]:
    for index in indices:
        image = read_image(sequence.images[index])
        if (image.shape[1], image.shape[0]) != size:
            raise InputError(f"{sequence.images[index]}: expected a {size[0]}x{size[1]} image like the sequence's "
                             f"first, got {image.shape[1]}x{image.shape[0]}")
        timestamp = index / sequence.fps if sequence.fps else 0.0
        packet = FramePacket(sequence.name, index, timestamp, image)
        if sequence.ground_truth[index] is not None:
            packet.outputs[GROUND_TRUTH] = sequence.ground_truth[index]
        yield packet


def _pick(folders: list[Path], names: list[str] | None, root: Path) -> list[Path]:
    """The folders named in `names`, in that order; all when None."""
    if names is None:
        return folders
    by_name = {f.name: f for f in folders}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise InputError(f"{root}: no sequence {unknown[0]!r}; there are: {', '.join(sorted(by_name)[:20])}")
    return [by_name[name] for name in names]
