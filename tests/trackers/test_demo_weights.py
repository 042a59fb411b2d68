"""The packaged demo weights: found when no official file is there, announced, and they keep the built-in clip's
target (the issue's bar: IoU >= 0.5 with the ground truth on >= 90 % of frames)."""

from __future__ import annotations

import numpy as np
import pytest

from videoanalyst.evaluators.success import box_iou
from videoanalyst.experiments import PACKAGED_WEIGHTS_DIR, load_experiment
from videoanalyst.formats.got10k import read_got10k_groundtruth
from videoanalyst.models.weights import file_md5, md5_in_name
from videoanalyst.sources.image_sequences import list_images, read_image
from videoanalyst.synthetic.export import builtin_clip
from videoanalyst.trackers.one_target import OneTarget


def test_demo_weights_are_packaged_fp16_with_their_md5_in_the_name():
    files = sorted(PACKAGED_WEIGHTS_DIR.glob("siamfcpp_alexnet_synthetic-md5_*.pt"))
    assert len(files) == 1
    assert md5_in_name(files[0].name) == file_md5(files[0])
    assert 18e6 < files[0].stat().st_size < 21e6  # 9.66 M parameters in fp16


@pytest.mark.slow
def test_demo_weights_keep_the_built_in_target(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOANALYST_WEIGHTS", str(tmp_path))  # no official file: the demo weights are used
    experiment = load_experiment("siamfcpp_alexnet")
    path, notice = experiment.weights_path()
    assert path.parent == PACKAGED_WEIGHTS_DIR and "trained on synthetic scenes only" in notice
    tracker, _ = experiment.build_tracker(quiet=True)
    folder = builtin_clip("got10k")
    images = list_images(folder, ".jpg")
    truth = read_got10k_groundtruth(folder / "groundtruth.txt", len(images))
    single = OneTarget(tracker)
    single.initialize(read_image(images[0]), truth[0])
    boxes = np.stack([single.track(read_image(image)) for image in images[1:]])
    overlaps = box_iou(boxes, truth[1:])
    present = ~np.isnan(overlaps)
    kept = np.mean(overlaps[present] >= 0.5)
    assert kept >= 0.9, f"IoU >= 0.5 on {kept:.1%} of frames"
