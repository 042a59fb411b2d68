"""GOT-10k sequence folders: ``00000001.jpg``... with ``groundtruth.txt``, ``*.label`` files and ``meta_info.ini``."""

from __future__ import annotations

from pathlib import Path

from videoanalyst.formats.got10k import (
    got10k_fps,
    got10k_targets,
    read_got10k_groundtruth,
    read_got10k_labels,
    read_got10k_meta,
)
from videoanalyst.sources.image_sequences import ImageSequence, ImageSequenceSource, list_images


class Got10kSource(ImageSequenceSource):
    """GOT-10k sequences (a sequence folder, or a split folder with ``list.txt``), each frame's `TargetState`
    attached as ground truth: present=False where ``absence.label`` says so; on the test split only the first
    frame has one. fps comes from ``meta_info.ini`` (``anno_fps``).

    Args:
        path, sequences, queue_size, start, stop, stride: as `ImageSequenceSource` describes them.
    """

    layout = "got10k"

    def is_sequence(self, folder: Path) -> bool:
        return (folder / "groundtruth.txt").is_file() or any(folder.glob("*.jpg"))

    def image_files(self, folder: Path) -> list[Path]:
        return list_images(folder, ".jpg")

    def read_sequence(self, folder: Path) -> ImageSequence:
        images = self.image_files(folder)
        boxes = read_got10k_groundtruth(folder / "groundtruth.txt", len(images))
        targets = got10k_targets(boxes, read_got10k_labels(folder, len(images)).get("absence"))
        meta = folder / "meta_info.ini"
        fps = got10k_fps(read_got10k_meta(meta)) if meta.is_file() else None
        return ImageSequence(folder.name, images, targets + [None] * (len(images) - len(targets)), fps)
