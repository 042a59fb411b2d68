"""Training sequences (one target through a run of frames) from GOT-10k folders or synthetic scenes, and the drawing
of template / search frame pairs from them, as video_analyst's `TrackPairSampler` and `TrackPairFilter` do
(megvii-research/video_analyst, videoanalyst/data/sampler/sampler_impl/track_pair_sampler.py,
videoanalyst/data/filter/filter_impl/track_pair_filter.py, videoanalyst/data/utils/filter_box.py).

Boxes here are x, y, w, h in video_analyst's pixel convention: pixel i has coordinate i and a box's centre is
``x + (w - 1) / 2`` (its ``xywh2cxywh``), the convention our trackers use at their API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from videoanalyst.errors import InputError
from videoanalyst.formats.got10k import read_got10k_groundtruth, read_got10k_labels
from videoanalyst.sources.got10k import Got10kSource
from videoanalyst.sources.image_sequences import list_images, read_image
from videoanalyst.synthetic.scene import Scene, SceneConfig, numbered_scenes


@dataclass(frozen=True, eq=False)
class TrackSequence:
    """One target through a run of frames.

    Args:
        name: for messages (``folder`` or ``scene/object id``).
        boxes: (N, 4) float64 x, y, w, h of the target in each frame (see the module docstring).
        visibility: (N,) float64 visible fraction of the target in each frame (0: absent or fully covered), or an
            upper bound of it (GOT-10k's cover levels).
        image_size: (width, height) of every frame.
        frame: frame index -> (H, W, 3) uint8 RGB image.
    """

    name: str
    boxes: np.ndarray
    visibility: np.ndarray
    image_size: tuple[int, int]
    frame: Callable[[int], np.ndarray]

    def __len__(self) -> int:
        return len(self.boxes)


@dataclass(frozen=True)
class Got10kFrames:
    """The frames ``00000001.jpg``... of a GOT-10k sequence folder, read on demand (picklable, for workers)."""

    folder: Path

    def __call__(self, index: int) -> np.ndarray:
        return read_image(self.folder / f"{index + 1:08d}.jpg")


def got10k_sequences(folder: Path) -> list[TrackSequence]:
    """The sequences of a GOT-10k split folder (those in ``list.txt``, else every sequence folder) or of one
    sequence folder. A frame's visibility is 0 where ``absence.label`` is 1 or the box is empty, else the upper
    bound of its ``cover.label`` level (level k of 1-6: 0.15 k; 7 and 8: 1), or 1 without cover labels.

    Raises:
        InputError: naming the folder or file: missing folder, frames not named ``00000001.jpg``..., ground truth
            malformed or with only the first frame's box (the test split), unreadable first image.
    """
    return [_got10k_sequence(path) for path in Got10kSource(str(folder)).folders]


def _got10k_sequence(folder: Path) -> TrackSequence:
    images = list_images(folder, ".jpg")
    if [p.name for p in images] != [f"{i:08d}.jpg" for i in range(1, len(images) + 1)]:
        raise InputError(
            f"{folder}: expected frames named 00000001.jpg to {len(images):08d}.jpg, as GOT-10k names them"
        )
    groundtruth = folder / "groundtruth.txt"
    boxes = read_got10k_groundtruth(groundtruth, len(images))
    if len(boxes) != len(images):
        raise InputError(f"{groundtruth}: only the first frame has a box (the test split?); training needs one a frame")
    labels = read_got10k_labels(folder, len(images))
    visibility = np.minimum(0.15 * labels["cover"], 1.0) if "cover" in labels else np.ones(len(images))
    visibility[(boxes[:, 2] <= 0) | (boxes[:, 3] <= 0) | (labels.get("absence", 0) == 1)] = 0
    try:
        with Image.open(images[0]) as image:
            size = image.size
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(f"{images[0]}: cannot read the image ({error})") from None
    return TrackSequence(folder.name, boxes, visibility, size, Got10kFrames(folder))


def synthetic_sequences(config: SceneConfig, count: int) -> list[TrackSequence]:
    """Every object of `count` synthetic scenes (`numbered_scenes`) as a sequence, frames rendered on demand, with
    the scene's exact visibility (the fraction of the box in view and not covered by objects in front).

    The scene's boxes are continuous corners (an object covers the pixels whose centres lie inside), so the
    pixel-convention box is x = x1, w = x2 - x1: its centre ``x + (w - 1) / 2`` is the covered pixels' centre.
    """
    sequences = []
    for name, scene_config in numbered_scenes(config, count):
        scene = Scene(scene_config)
        states = [scene.objects(i) for i in range(len(scene))]
        corners = np.stack([s.xyxy for s in states], axis=1)  # (objects, frames, 4)
        visibility = np.stack([s.visibility for s in states], axis=1)
        for k, object_id in enumerate(scene.ids):
            boxes = np.concatenate([corners[k, :, :2], corners[k, :, 2:] - corners[k, :, :2]], axis=1)
            sequences.append(
                TrackSequence(
                    f"{name}/{object_id}", boxes, visibility[k], (scene_config.width, scene_config.height), scene.frame
                )
            )
    return sequences


def reasonable_boxes(
    boxes: np.ndarray, image_size: tuple[int, int], min_area_rate: float, max_area_rate: float, max_aspect_ratio: float
) -> np.ndarray:
    """(N,) bool: boxes (N, 4) x, y, w, h neither too small, too large nor too elongated for training, by
    video_analyst's rule (data/utils/filter_box.py): min_area_rate < w * h / image area < max_area_rate and
    max(h / w, w / h) < max_aspect_ratio (with its epsilons: h / (w + 1e-6), floored at 1e-6 when inverted)."""
    area_rate = boxes[:, 2] * boxes[:, 3] / (image_size[0] * image_size[1])
    ratio = boxes[:, 3] / (boxes[:, 2] + 1e-6)
    elongation = np.maximum(ratio, 1 / np.maximum(ratio, 1e-6))
    return (min_area_rate < area_rate) & (area_rate < max_area_rate) & (elongation < max_aspect_ratio)


@dataclass(frozen=True)
class FramePair:
    """Which frames a training pair crops: (sequence index, frame index) of the template and of the search frame.
    `negative`: the two come from independently drawn targets, so the search crop does not hold the template's."""

    template: tuple[int, int]
    search: tuple[int, int]
    negative: bool


class PairSampler:
    """Draws template / search frame pairs among the usable frames of `sequences`: more than `min_visibility` of
    the target visible (ours: video_analyst has no such rule), and the box passing `reasonable_boxes`, decided once
    for all frames (video_analyst checks its filter after drawing, and redraws).

    A positive pair takes a sequence uniformly, a template frame uniformly among its usable frames, and a search
    frame uniformly among its usable frames at most `max_frame_gap` frames away (the template frame included), as
    video_analyst's `_sample_pair_idx_pair_within_max_diff` intends; its code lets the search frame run up to the
    sequence's end past the gap (its second range is empty), which we do not copy. A negative pair, drawn with
    probability `negative_pair_ratio`, takes two frames each of an independently drawn sequence.

    Raises:
        InputError: when no frame of any sequence is usable.
    """

    def __init__(
        self,
        sequences: Sequence[TrackSequence],
        max_frame_gap: int,
        negative_pair_ratio: float,
        min_visibility: float,
        min_area_rate: float,
        max_area_rate: float,
        max_aspect_ratio: float,
    ) -> None:
        self.sequences = sequences
        self.max_frame_gap = max_frame_gap
        self.negative_pair_ratio = negative_pair_ratio
        self.usable = [
            np.flatnonzero(
                (s.visibility > min_visibility)
                & reasonable_boxes(s.boxes, s.image_size, min_area_rate, max_area_rate, max_aspect_ratio)
            )
            for s in sequences
        ]
        self.candidates = np.array([i for i, frames in enumerate(self.usable) if len(frames)], dtype=np.int64)
        if len(self.candidates) == 0:
            raise InputError(
                f"none of the {len(sequences)} sequences has a frame usable for training (target more than "
                f"{min_visibility} visible, box area between {min_area_rate} and {max_area_rate} of the image, "
                f"elongation below {max_aspect_ratio})"
            )

    def sample(self, rng: np.random.Generator) -> FramePair:
        """One pair, all of its randomness drawn from `rng`."""
        if rng.random() < self.negative_pair_ratio:
            return FramePair(self._any_frame(rng), self._any_frame(rng), negative=True)
        sequence, first = self._any_frame(rng)
        frames = self.usable[sequence]
        low = np.searchsorted(frames, first - self.max_frame_gap, side="left")
        high = np.searchsorted(frames, first + self.max_frame_gap, side="right")
        return FramePair((sequence, first), (sequence, int(frames[rng.integers(low, high)])), negative=False)

    def _any_frame(self, rng: np.random.Generator) -> tuple[int, int]:
        """A sequence uniformly, then one of its usable frames uniformly."""
        sequence = int(self.candidates[rng.integers(len(self.candidates))])
        frames = self.usable[sequence]
        return sequence, int(frames[rng.integers(len(frames))])
