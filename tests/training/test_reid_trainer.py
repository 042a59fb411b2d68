"""ReID training through `python -m videoanalyst.train`: the loss falls, held-out identities separate, resuming
continues exactly where the checkpoint left off, settings errors name the key."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import yaml

from videoanalyst import train as cli
from videoanalyst.experiments import find_experiment
from videoanalyst.models.reid import build_reid
from videoanalyst.synthetic.scene import SceneConfig
from videoanalyst.training.checkpoints import read_loss_log
from videoanalyst.training.reid_config import ReidTrainConfig, is_reid_experiment, load_reid_train_config
from videoanalyst.training.reid_data import identity_crops

SCENE = {"width": 96, "height": 72, "num_frames": 30, "num_objects": 4}
TINY = f"""model: reid
backbone: resnet18
crop_height: 64
crop_width: 32
synthetic: {SCENE}
synthetic_sequences: 3
identities_per_batch: 6
crops_per_identity: 4
total_iterations: 40
warmup_iterations: 5
peak_lr: 0.001
num_workers: 0
log_every: 5
checkpoint_every: 20
"""


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    path = tmp_path_factory.mktemp("reid") / "tiny_reid_train.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def trained(experiment):
    output = experiment.parent / "out"
    assert cli.main(["--exp", str(experiment), "--output", str(output), "--no-progress"]) == 0
    return output


def _run(capsys, *args):
    code = cli.main([*map(str, args), "--no-progress"])
    return code, capsys.readouterr()


def _separation(weights, seed):
    """Mean distance between crops of different identities minus that between crops of the same identity, over
    every crop of a scene not trained on (new identities)."""
    network = build_reid(weights, backbone="resnet18", crop_size=(64, 32))
    crops = identity_crops(SceneConfig(**SCENE, seed=seed), 1, min_visibility=0.5)
    with torch.no_grad():
        embeddings = network(crops.crops(np.arange(len(crops)), (64, 32)).float())
    distances = torch.cdist(embeddings, embeddings).numpy()
    same = crops.labels[:, None] == crops.labels[None, :]
    return distances[~same].mean() - distances[same & ~np.eye(len(same), dtype=bool)].mean()


@pytest.mark.slow
def test_loss_falls(trained):
    rows = read_loss_log(trained / "log.jsonl")
    assert [row["step"] for row in rows] == list(range(5, 45, 5))
    first, last = np.mean([r["loss"] for r in rows[:2]]), np.mean([r["loss"] for r in rows[-2:]])
    # Measured: 1.95 -> 0.65 (identity term from ~ln 12 down, triplet term to ~0).
    assert last < 0.6 * first


@pytest.mark.slow
@pytest.mark.parametrize("seed", [100, 101])
def test_held_out_identities_are_closer_to_themselves_after_training(trained, seed):
    # Measured (different - same mean distance): random weights 0.27 / 0.21, trained 1.37 / 1.20.
    trained_margin = _separation(trained / "final.pt", seed)
    torch.manual_seed(0)
    assert trained_margin > 0.8 and trained_margin > _separation(None, seed) + 0.5


@pytest.mark.slow
def test_resume_continues_exactly_from_the_saved_step(experiment, tmp_path, capsys):
    short = ["total_iterations=6", "warmup_iterations=2", "log_every=1", "checkpoint_every=2"]
    code, out = _run(capsys, "--exp", experiment, "--output", tmp_path / "split", "--stop-at", 3, *short)
    assert code == 0 and "stopped at iteration 3 of 6" in out.out
    assert torch.load(tmp_path / "split" / "checkpoint.pt", weights_only=True)["step"] == 3
    code, out = _run(capsys, "--exp", experiment, "--output", tmp_path / "split", *short)
    assert code == 2 and "holds a checkpoint already" in out.err
    assert _run(capsys, "--exp", experiment, "--output", tmp_path / "split", "--resume", *short)[0] == 0
    assert _run(capsys, "--exp", experiment, "--output", tmp_path / "straight", *short)[0] == 0
    assert [row["step"] for row in read_loss_log(tmp_path / "split" / "log.jsonl")] == [1, 2, 3, 4, 5, 6]
    split = torch.load(tmp_path / "split" / "final.pt", weights_only=True)
    straight = torch.load(tmp_path / "straight" / "final.pt", weights_only=True)
    assert split.keys() == straight.keys() and not any(key.startswith("classifier") for key in split)
    for key, value in straight.items():
        torch.testing.assert_close(split[key], value, rtol=0, atol=1e-6, msg=key)
    code, out = _run(capsys, "--exp", experiment, "--output", tmp_path / "split", "--resume", *short, "seed=1")
    assert code == 2 and "saved with other settings: seed (0 -> 1)" in out.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["peak_lrr=0.1"], "command line: ReidTrainConfig has no setting 'peak_lrr' (did you mean 'peak_lr'?)"),
        (["--data", "somewhere"], "ReidTrainConfig has no setting 'data'"),
        (["identities_per_batch=1"], "identities_per_batch: expected an int >= 2"),
        (["backbone=vgg16"], "backbone: expected"),
        (["synthetic.fps=0"], "synthetic: SceneConfig: need width, height >= 8"),
        (["weights_backbone=absent.pth"], "absent.pth: no ImageNet weights file for resnet18"),
    ],
)
def test_bad_settings_are_one_error_line(experiment, tmp_path, capsys, args, message):
    code, out = _run(capsys, "--exp", experiment, "--output", tmp_path / "out", *args)
    assert code == 2 and out.err.startswith("error: ") and message in out.err
    assert len(out.err.strip().splitlines()) == 1


def test_the_shipped_experiment_is_a_valid_reid_experiment_setting_every_field():
    path = find_experiment("reid_resnet50_synthetic_train")
    fields = [f.name for f in dataclasses.fields(ReidTrainConfig)]
    assert list(yaml.safe_load(path.read_text())) == fields
    assert all(f"{name}:" in ReidTrainConfig.__doc__ or f"{name}," in ReidTrainConfig.__doc__ for name in fields)
    assert is_reid_experiment(path) and not is_reid_experiment(find_experiment("siamfcpp_alexnet_synthetic_train"))
    config = load_reid_train_config(path)
    assert (config.backbone, config.embedding_dim, config.crop_size) == ("resnet50", 128, (256, 128))
    assert (config.identities_per_batch, config.crops_per_identity, config.triplet_margin) == (16, 4, 0.3)
