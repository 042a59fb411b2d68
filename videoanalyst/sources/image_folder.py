"""A folder of images (any names, in name order) as one stream, without ground truth."""

from __future__ import annotations

from pathlib import Path

from videoanalyst.sources.image_sequences import IMAGE_SUFFIXES, ImageSequence, ImageSequenceSource, list_images


class ImageFolderSource(ImageSequenceSource):
    """The frames of a folder of ``.jpg`` / ``.png`` / ``.bmp`` files, or of each such sub-folder.

    Args:
        path, sequences, queue_size, start, stop, stride: as `ImageSequenceSource` describes them; None: the
            frames of the built-in synthetic clip.
    """

    layout = "got10k"

    def is_sequence(self, folder: Path) -> bool:
        return any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())

    def image_files(self, folder: Path) -> list[Path]:
        return list_images(folder)

    def read_sequence(self, folder: Path) -> ImageSequence:
        images = self.image_files(folder)
        return ImageSequence(folder.name, images, [None] * len(images), None)
