"""MOT17 sequence folders: ``img1/000001.jpg``..., ``seqinfo.ini`` and, outside the test split, ``gt/gt.txt``."""

from __future__ import annotations

from pathlib import Path

from videoanalyst.errors import InputError
from videoanalyst.formats.mot17 import MotSeqInfo, read_mot17_groundtruth, read_mot_seqinfo
from videoanalyst.sources.image_sequences import ImageSequence, ImageSequenceSource, list_images


class Mot17Source(ImageSequenceSource):
    """MOT17 sequences (a sequence folder, or a split folder of them), each frame's `Detections` from ``gt.txt``
    attached as ground truth (all rows: ids, classes, ``consider`` and ``visibility``); none without a gt file.
    fps from ``seqinfo.ini``.

    Args:
        path, sequences, queue_size, start, stop, stride: as `ImageSequenceSource` describes them.
    """

    layout = "mot17"

    def is_sequence(self, folder: Path) -> bool:
        return (folder / "seqinfo.ini").is_file() or (folder / "img1").is_dir()

    def image_files(self, folder: Path) -> list[Path]:
        return _images(folder, _seqinfo(folder))

    def read_sequence(self, folder: Path) -> ImageSequence:
        info = _seqinfo(folder)
        images = _images(folder, info)
        if info and len(images) != info.seq_length:
            raise InputError(f"{folder / 'seqinfo.ini'}: seqLength is {info.seq_length} but {folder / info.im_dir} "
                             f"holds {len(images)} {info.im_ext} images")
        groundtruth = folder / "gt" / "gt.txt"
        truth = read_mot17_groundtruth(groundtruth, len(images)) if groundtruth.is_file() else [None] * len(images)
        return ImageSequence(folder.name, images, truth, info.frame_rate if info else None)


def _images(folder: Path, info: MotSeqInfo | None) -> list[Path]:
    """The sequence's frames: where its ``seqinfo.ini`` says, else ``img1/``."""
    return list_images(folder / info.im_dir, info.im_ext) if info else list_images(folder / "img1")


def _seqinfo(folder: Path) -> MotSeqInfo | None:
    """The sequence's ``seqinfo.ini``, None when it has none."""
    seqinfo = folder / "seqinfo.ini"
    return read_mot_seqinfo(seqinfo) if seqinfo.is_file() else None
