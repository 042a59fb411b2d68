"""The packaged demo weights: fp16, named by their md5, found and announced when no official file is there."""

from __future__ import annotations

import torch

from videoanalyst.experiments import PACKAGED_WEIGHTS_DIR, load_experiment
from videoanalyst.models.weights import file_md5, md5_in_name


def test_demo_weights_are_packaged_fp16_with_their_md5_in_the_name():
    files = sorted(PACKAGED_WEIGHTS_DIR.glob("siamfcpp_alexnet_synthetic-md5_*.pt"))
    assert len(files) == 1
    assert md5_in_name(files[0].name) == file_md5(files[0])
    assert 18e6 < files[0].stat().st_size < 21e6  # 9.66 M parameters in fp16


def test_demo_weights_are_used_with_a_notice_when_no_official_file_is_there(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOANALYST_WEIGHTS", str(tmp_path))
    experiment = load_experiment("siamfcpp_alexnet")
    path, notice = experiment.weights_path()
    assert path.parent == PACKAGED_WEIGHTS_DIR and "trained on synthetic scenes only" in notice
    tracker, used = experiment.build_tracker(quiet=True)
    assert used == path and tracker.network.backbone.conv1.conv.weight.dtype == torch.float32
