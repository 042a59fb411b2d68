"""The training samples: sample i of a run is a pair drawn, cropped, augmented and labelled from its own seed
(seed, i), so it is the same whichever worker makes it, in whatever order, and a resumed run sees the same data."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from videoanalyst.training.augment import crop_pair, pair_windows, photometric
from videoanalyst.training.config import TOTAL_STRIDE, TrainConfig
from videoanalyst.training.pairs import PairSampler, TrackSequence
from videoanalyst.training.targets import densebox_targets


class PairDataset(Dataset):
    """`config.total_iterations * config.batch_size` training samples from `sequences`.

    A sample is a dict of tensors: ``exemplar`` (3, 127, 127) and ``search`` (3, X, X) uint8 **BGR** crops (the
    network's channel order; frames are RGB), ``cls``, ``ctr`` (S*S,) and ``boxes`` (S*S, 4) float32 targets
    (`densebox_targets`; a negative pair shows as cls without 1s).

    Args:
        sequences: the training sequences.
        config: sampling, crop and augmentation settings, and the seed.
        score_size: S, the network's score-map side at `config.search_size`.
    """

    def __init__(self, sequences: Sequence[TrackSequence], config: TrainConfig, score_size: int) -> None:
        self.sequences = sequences
        self.config = config
        self.score_size = score_size
        self.sampler = PairSampler(
            sequences,
            config.max_frame_gap,
            config.negative_pair_ratio,
            config.min_visibility,
            config.min_area_rate,
            config.max_area_rate,
            config.max_aspect_ratio,
        )

    def __len__(self) -> int:
        return self.config.total_iterations * self.config.batch_size

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        config = self.config
        rng = np.random.default_rng([config.seed, index])
        pair = self.sampler.sample(rng)
        (template_seq, template_frame), (search_seq, search_frame) = pair.template, pair.search
        template, search = self.sequences[template_seq], self.sequences[search_seq]
        windows = pair_windows(
            template.boxes[template_frame],
            search.boxes[search_frame],
            rng,
            config.search_size,
            config.context_amount,
            config.max_shift,
            config.max_scale,
        )
        exemplar, crop = crop_pair(
            template.frame(template_frame), search.frame(search_frame), windows, config.search_size
        )
        exemplar, crop = (
            photometric(image, rng, config.color_jitter, config.blur_probability, config.blur_sigma)
            for image in (exemplar, crop)
        )
        cls, ctr, boxes = densebox_targets(
            torch.from_numpy(windows.search_box), config.search_size, self.score_size, pair.negative, TOTAL_STRIDE
        )
        return {"exemplar": exemplar.flip(0), "search": crop.flip(0), "cls": cls, "ctr": ctr, "boxes": boxes}


def seed_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: seed NumPy's and Python's global generators from the worker's torch seed (which
    the loader derives from its seeded generator), for any code that uses them; our own draws never do."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)
