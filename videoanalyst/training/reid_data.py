"""ReID training data from synthetic scenes: every object of every scene is one identity, each frame where it is
visible enough one crop of it; PK batches (P identities x K crops) drawn from a seed per iteration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from videoanalyst.errors import ConfigError
from videoanalyst.models.reid import crop_boxes
from videoanalyst.synthetic.scene import Scene, SceneConfig, numbered_scenes
from videoanalyst.training.reid_config import ReidTrainConfig


@dataclass(frozen=True, eq=False)
class IdentityCrops:
    """Where every crop of every identity is: M crops, each (scene, frame, box) with its identity label.

    Args:
        scenes: the scenes, rendered on demand.
        scene: (M,) index into `scenes` of each crop.
        frame: (M,) frame index of each crop.
        boxes: (M, 4) float32 full boxes x1, y1, x2, y2 in pixels.
        labels: (M,) int64 identity: scene index * objects per scene + object id - 1.
        num_identities: identities in all (objects per scene x scenes), the classifier's class count.
    """

    scenes: list[Scene]
    scene: np.ndarray
    frame: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    num_identities: int

    def __len__(self) -> int:
        return len(self.labels)

    def crops(
        self,
        picks: np.ndarray,
        crop_size: tuple[int, int],
        rng: np.random.Generator | None = None,
        box_jitter: float = 0.0,
        flip_probability: float = 0.0,
    ) -> torch.Tensor:
        """(len(picks), 3, h, w) uint8 RGB crops of the crops `picks`, each frame rendered once; with `rng`, each
        box corner is jittered by box_jitter x the box's size (normal) and a crop mirrored with flip_probability."""
        boxes = self.boxes[picks].astype(np.float64)
        if rng is not None:
            size = np.tile(boxes[:, 2:] - boxes[:, :2], 2)
            boxes = boxes + rng.normal(0.0, box_jitter, boxes.shape) * size
        flips = rng.random(len(picks)) < flip_probability if rng is not None else np.zeros(len(picks), bool)
        out = torch.empty((len(picks), 3, *crop_size), dtype=torch.uint8)
        frames = np.stack([self.scene[picks], self.frame[picks]], axis=1)
        for scene, frame in np.unique(frames, axis=0):
            rows = np.flatnonzero((frames[:, 0] == scene) & (frames[:, 1] == frame))
            image = torch.from_numpy(self.scenes[scene].frame(int(frame))).permute(2, 0, 1)
            crops = crop_boxes(image, torch.from_numpy(boxes[rows]), crop_size)
            crops[flips[rows]] = crops[flips[rows]].flip(-1)
            out[rows] = crops.round().clamp(0, 255).to(torch.uint8)
        return out


def identity_crops(config: SceneConfig, count: int, min_visibility: float) -> IdentityCrops:
    """The crops of `count` scenes (`numbered_scenes`: seeds config.seed + k) whose objects are at least
    `min_visibility` visible (and visible at all)."""
    scenes = [Scene(scene_config) for _, scene_config in numbered_scenes(config, count)]
    scene_index, frames, boxes, labels = [], [], [], []
    for k, scene in enumerate(scenes):
        for index in range(len(scene)):
            states = scene.objects(index)
            seen = np.flatnonzero((states.visibility > 0) & (states.visibility >= min_visibility))
            scene_index.append(np.full(len(seen), k))
            frames.append(np.full(len(seen), index))
            boxes.append(states.xyxy[seen])
            labels.append(k * config.num_objects + states.ids[seen] - 1)
    return IdentityCrops(
        scenes=scenes,
        scene=np.concatenate(scene_index).astype(np.int64),
        frame=np.concatenate(frames).astype(np.int64),
        boxes=np.concatenate(boxes).astype(np.float32).reshape(-1, 4),
        labels=np.concatenate(labels).astype(np.int64),
        num_identities=count * config.num_objects,
    )


class PKBatches(Dataset):
    """`config.total_iterations` batches; batch i is drawn from (seed, i) alone, so it is the same in any worker and
    after resuming. A batch is P identities (distinct, uniform over those with crops) x K crops each (distinct
    frames where the identity has K, else drawn with repetition), as ``{"crops": (P*K, 3, h, w) uint8,
    "labels": (P*K,) int64}``, identity by identity.

    Args:
        index: the crops to draw from.
        config: P, K, crop size, augmentation and seed.

    Raises:
        ConfigError: fewer identities have crops than P.
    """

    def __init__(self, index: IdentityCrops, config: ReidTrainConfig) -> None:
        self.index = index
        self.config = config
        order = np.argsort(index.labels, kind="stable")
        self.identities, starts = np.unique(index.labels[order], return_index=True)
        self.members = np.split(order, starts[1:])
        if len(self.identities) < config.identities_per_batch:
            raise ConfigError(
                f"identities_per_batch: {config.identities_per_batch} asked for, but only {len(self.identities)} "
                f"identities have crops at min_visibility {config.min_visibility}; add scenes or objects"
            )

    def __len__(self) -> int:
        return self.config.total_iterations

    def __getitem__(self, step: int) -> dict[str, torch.Tensor]:
        config = self.config
        rng = np.random.default_rng([config.seed, step])
        chosen = rng.choice(len(self.identities), config.identities_per_batch, replace=False)
        k = config.crops_per_identity
        picks = np.concatenate(
            [rng.choice(self.members[i], k, replace=len(self.members[i]) < k) for i in chosen]
        )
        crops = self.index.crops(picks, config.crop_size, rng, config.box_jitter, config.flip_probability)
        return {"crops": crops, "labels": torch.from_numpy(self.index.labels[picks])}
