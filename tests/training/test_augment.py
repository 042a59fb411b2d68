"""Pair crops: where the windows go (video_analyst crop_track_pair.py), what lands where, determinism under a seed."""

import numpy as np
import pytest
import torch

from videoanalyst.training.augment import context_side, crop_pair, pair_windows, photometric
from videoanalyst.training.config import TrainConfig
from videoanalyst.training.dataset import PairDataset
from videoanalyst.training.pairs import TrackSequence, synthetic_sequences

TEMPLATE = np.array([40.0, 30.0, 20.0, 10.0])  # x, y, w, h: centre (49.5, 34.5)
SEARCH = np.array([60.0, 50.0, 30.0, 16.0])  # centre (74.5, 57.5)


def test_without_augmentation_the_target_sits_in_the_middle():
    windows = pair_windows(TEMPLATE, SEARCH, np.random.default_rng(0), 239, 0.5, max_shift=0.0, max_scale=0.0)
    assert windows.exemplar_center.tolist() == [49.5, 34.5]
    assert windows.exemplar_side == pytest.approx(np.sqrt((20 + 15) * (10 + 15)))  # context 0.5 * (w + h)
    scale = 127 / context_side(SEARCH[2:], 0.5)
    assert windows.search_side == pytest.approx(239 / scale)
    assert windows.search_center.tolist() == [74.5, 57.5]
    # In the crop: centred at (239 - 1) / 2, sides w * scale with the inclusive convention (x2 - x1 + 1).
    box = windows.search_box
    assert (box[:2] + box[2:]) / 2 == pytest.approx([119, 119])
    assert box[2:] - box[:2] + 1 == pytest.approx(SEARCH[2:] * scale)


def test_shift_and_scale_stay_within_bounds_and_keep_the_box_inside():
    scale = 127 / context_side(SEARCH[2:], 0.5)
    rng = np.random.default_rng(3)
    for _ in range(300):
        windows = pair_windows(TEMPLATE, SEARCH, rng, 239, 0.5, max_shift=0.4, max_scale=0.3)
        box = windows.search_box
        assert box.min() >= 0 and box.max() <= 238
        factor = windows.search_side / (239 / scale)
        assert 1 / 1.3 - 1e-9 <= factor <= 1.3 + 1e-9
        # The window moves by up to 0.4 of its half side; the target moves the other way in the crop.
        shift = SEARCH[:2] + (SEARCH[2:] - 1) / 2 - windows.search_center
        assert np.abs(shift).max() <= 0.4 * windows.search_side / 2 + 1e-9
        assert (box[:2] + box[2:]) / 2 == pytest.approx(119 + shift * 239 / windows.search_side)


def test_a_template_too_elongated_for_its_crop_turns_augmentation_off():
    # 200 x 2: the exemplar box would overflow 127 px, so every draw is refused and the fallback is unaugmented.
    windows = pair_windows(np.array([0.0, 0.0, 200.0, 2.0]), SEARCH, np.random.default_rng(0), 239, 0.5, 0.4, 0.3)
    assert windows.search_center.tolist() == [74.5, 57.5]
    assert windows.search_side == pytest.approx(239 * context_side(SEARCH[2:], 0.5) / 127)


def test_crops_centre_on_the_target():
    # Pixel (x, y) of the frame holds (x, y, x + y) mod 256; the crop's centre pixel samples the window centre.
    ys, xs = np.mgrid[0:120, 0:160]
    image = np.stack([xs, ys, xs + ys], axis=-1).astype(np.uint8)
    windows = pair_windows(TEMPLATE, SEARCH, np.random.default_rng(0), 239, 0.5, max_shift=0.0, max_scale=0.0)
    windows = type(windows)(
        np.array([50.0, 34.0]), windows.exemplar_side, np.array([75.0, 57.0]), windows.search_side, windows.search_box
    )
    exemplar, search = crop_pair(image, image, windows, 239)
    assert exemplar.shape == (3, 127, 127) and search.shape == (3, 239, 239) and exemplar.dtype == torch.uint8
    assert exemplar[:, 63, 63].tolist() == [50, 34, 84]
    assert search[:, 119, 119].tolist() == [75, 57, 132]


def test_photometric_is_deterministic_and_off_by_default():
    crop = torch.randint(0, 256, (3, 31, 31), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(photometric(crop, np.random.default_rng(0), 0.0, 0.0, 1.0), crop)
    first = photometric(crop, np.random.default_rng(5), 0.3, 1.0, 1.5)
    assert torch.equal(first, photometric(crop, np.random.default_rng(5), 0.3, 1.0, 1.5))
    assert not torch.equal(first, crop) and not torch.equal(
        first, photometric(crop, np.random.default_rng(6), 0.3, 1.0, 1.5)
    )


def test_samples_are_deterministic_under_the_seed():
    config = TrainConfig(
        synthetic={"width": 96, "height": 72, "num_frames": 20, "num_objects": 2},
        synthetic_sequences=2,
        search_size=191,
        batch_size=2,
        images_per_epoch=8,
        num_epochs=2,
        color_jitter=0.2,
        blur_probability=0.5,
        negative_pair_ratio=0.3,
    )
    sequences = synthetic_sequences(config.scene, config.synthetic_sequences)
    dataset = PairDataset(sequences, config, score_size=3)
    again = PairDataset(synthetic_sequences(config.scene, 2), config, score_size=3)
    for index in (0, 5):
        first, second = dataset[index], again[index]
        assert all(torch.equal(first[key], second[key]) for key in first)
    other = PairDataset(sequences, TrainConfig(**{**config.to_dict(), "seed": 1}), score_size=3)
    assert not torch.equal(dataset[0]["search"], other[0]["search"])
    sample = dataset[0]
    assert sample["exemplar"].shape == (3, 127, 127) and sample["search"].shape == (3, 191, 191)
    assert sample["cls"].shape == sample["ctr"].shape == (9,) and sample["boxes"].shape == (9, 4)


def test_samples_are_bgr():
    # A solid RGB (200, 100, 0) frame: the network's crops hold B, G, R = 0, 100, 200 (also the border, its mean).
    boxes = np.tile([20.0, 20.0, 20.0, 20.0], (4, 1))
    frame = np.zeros((60, 60, 3), np.uint8) + np.array([200, 100, 0], np.uint8)
    sequence = TrackSequence("solid", boxes, np.ones(4), (60, 60), lambda index: frame)
    config = TrainConfig(search_size=191, batch_size=1, images_per_epoch=2, num_epochs=2)
    sample = PairDataset([sequence], config, score_size=3)[0]
    for crop in (sample["exemplar"], sample["search"]):
        assert [crop[c].unique().tolist() for c in range(3)] == [[0], [100], [200]]
