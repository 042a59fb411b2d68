"""ReID training data: identities and crops of synthetic scenes, PK batches drawn from their own seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from videoanalyst.errors import ConfigError
from videoanalyst.models.reid import crop_boxes
from videoanalyst.synthetic.scene import Scene, SceneConfig
from videoanalyst.training.reid_config import ReidTrainConfig
from videoanalyst.training.reid_data import PKBatches, identity_crops

SCENE = {"width": 96, "height": 72, "num_frames": 20, "num_objects": 3}


@pytest.fixture(scope="module")
def crops():
    return identity_crops(SceneConfig(**SCENE), 2, min_visibility=0.5)


def test_every_crop_is_a_visible_object_labelled_by_scene_and_id(crops):
    assert crops.num_identities == 6 and len(crops) > 0
    for i in range(0, len(crops), 7):
        scene, frame, label = int(crops.scene[i]), int(crops.frame[i]), int(crops.labels[i])
        assert scene == label // 3
        states = Scene(SceneConfig(**{**SCENE, "seed": scene})).objects(frame)
        k = label % 3
        assert states.visibility[k] >= 0.5
        np.testing.assert_allclose(crops.boxes[i], states.xyxy[k], rtol=1e-6)


def test_crops_without_augmentation_are_the_boxes_of_the_rendered_frame(crops):
    picks = np.flatnonzero(crops.frame == crops.frame[0])[:3]
    image = torch.from_numpy(crops.scenes[int(crops.scene[picks[0]])].frame(int(crops.frame[0]))).permute(2, 0, 1)
    expected = crop_boxes(image, torch.from_numpy(crops.boxes[picks]), (32, 16)).round().to(torch.uint8)
    assert torch.equal(crops.crops(picks, (32, 16)), expected)


def test_pk_batches_hold_p_identities_of_k_crops_and_depend_on_the_step_alone(crops):
    config = ReidTrainConfig(synthetic=SCENE, synthetic_sequences=2, identities_per_batch=4, crops_per_identity=3,
                             crop_height=32, crop_width=16, total_iterations=5, warmup_iterations=1)
    batches = PKBatches(crops, config)
    batch = batches[3]
    assert batch["crops"].shape == (12, 3, 32, 16) and batch["crops"].dtype == torch.uint8
    labels = batch["labels"].view(4, 3)
    assert (labels == labels[:, :1]).all() and len(set(labels[:, 0].tolist())) == 4
    again = PKBatches(crops, config)[3]
    assert torch.equal(again["crops"], batch["crops"]) and torch.equal(again["labels"], batch["labels"])
    assert not torch.equal(batches[4]["crops"], batch["crops"])
    with pytest.raises(ConfigError, match="identities_per_batch: 7 asked for, but only 6 identities have crops"):
        PKBatches(crops, ReidTrainConfig(identities_per_batch=7, total_iterations=5, warmup_iterations=1))
