"""VOT sequence folders: images in ``color/`` (as the ``sequence`` file names them) or in the folder itself, with
``groundtruth.txt`` regions."""

from __future__ import annotations

from pathlib import Path

from videoanalyst.errors import InputError
from videoanalyst.formats.vot import read_vot_groundtruth, read_vot_sequence_file, vot_targets
from videoanalyst.sources.image_sequences import ImageSequence, ImageSequenceSource, list_images


class VotSource(ImageSequenceSource):
    """VOT sequences (a sequence folder, or a folder of them with ``list.txt``), each frame's `TargetState`
    attached as ground truth, with its polygon; present=False on rows of NaNs. fps from the ``sequence`` file.

    Args:
        path, sequences, queue_size, start, stop, stride: as `ImageSequenceSource` describes them.
    """

    layout = "vot"

    def is_sequence(self, folder: Path) -> bool:
        return (folder / "sequence").is_file() or (folder / "groundtruth.txt").is_file()

    def image_files(self, folder: Path) -> list[Path]:
        return _images(folder, _description(folder))

    def read_sequence(self, folder: Path) -> ImageSequence:
        config = _description(folder)
        images = _images(folder, config)
        polygons = read_vot_groundtruth(folder / "groundtruth.txt", len(images))
        try:
            fps = float(config["fps"]) if "fps" in config else None
        except ValueError:
            raise InputError(f"{folder / 'sequence'}: fps: expected a number, got {config['fps']!r}") from None
        return ImageSequence(folder.name, images, vot_targets(polygons), fps)


def _images(folder: Path, config: dict[str, str]) -> list[Path]:
    """The sequence's frames: where its ``sequence`` file's ``channels.color`` pattern says (``color/%08d.jpg``),
    else ``color/`` or the folder itself."""
    pattern = config.get("channels.color")
    if pattern:
        return list_images(folder / Path(pattern).parent, Path(pattern).suffix)
    return list_images(folder / "color" if (folder / "color").is_dir() else folder)


def _description(folder: Path) -> dict[str, str]:
    """The ``sequence`` file's keys (``channels.color``, ``fps``...); none when the folder has no such file."""
    description = folder / "sequence"
    return read_vot_sequence_file(description) if description.is_file() else {}
