"""Training experiment files: their keys are exactly TrainConfig's fields, the published recipe's values are there,
and every mistake names the file or command line and the key."""

import dataclasses

import pytest
import yaml

from videoanalyst.errors import ConfigError
from videoanalyst.experiment_files import EXPERIMENTS_DIR
from videoanalyst.training.config import TrainConfig, load_train_config, parse_overrides
from videoanalyst.training.reid_config import is_reid_experiment

TRAINING = [path for path in sorted(EXPERIMENTS_DIR.glob("*_train.yaml")) if not is_reid_experiment(path)]
FIELDS = [f.name for f in dataclasses.fields(TrainConfig)]


@pytest.mark.parametrize("path", TRAINING, ids=lambda p: p.stem)
def test_every_training_yaml_sets_exactly_the_fields(path):
    assert list(yaml.safe_load(path.read_text())) == FIELDS
    load_train_config(path)


def test_every_field_is_documented():
    doc = TrainConfig.__doc__
    assert all(name in doc for name in FIELDS)


def test_published_recipe_values():
    """video_analyst experiments/siamfcpp/train/got10k/siamfcpp_alexnet-trn.yaml."""
    config = load_train_config(EXPERIMENTS_DIR / "siamfcpp_alexnet_train.yaml")
    assert (config.batch_size, config.num_epochs, config.images_per_epoch) == (32, 20, 400000)
    assert (config.total_iterations, config.warmup_iterations) == (250000, 12500)
    assert (config.start_lr, config.peak_lr, config.end_lr) == (1e-6, 0.08, 1e-6)
    assert (config.momentum, config.weight_decay) == (0.9, 5e-5)
    assert (config.focal_alpha, config.focal_gamma, config.cls_weight, config.ctr_weight, config.iou_weight) == (
        0.25,
        2.0,
        1.0,
        1.0,
        3.0,
    )
    assert (config.negative_pair_ratio, config.max_frame_gap) == (0.1, 100)
    assert (config.min_area_rate, config.max_area_rate, config.max_aspect_ratio) == (0.001, 0.6, 10)
    assert (config.search_size, config.max_shift, config.max_scale, config.context_amount) == (303, 0.4, 0.3, 0.5)
    assert config.model == "siamfcpp_alexnet"


def test_synthetic_recipe_trains_the_published_network_on_cpu():
    config = load_train_config(EXPERIMENTS_DIR / "siamfcpp_alexnet_synthetic_train.yaml")
    assert config.model == "siamfcpp_alexnet" and config.data is None and config.device == "cpu"
    assert (config.search_size - 127) % 8 == 0 and config.total_iterations == 2000


def test_overrides_and_their_errors(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("batch_size: 8\nsynthetic: {width: 64}\n")
    config = load_train_config(path, parse_overrides(["peak_lr=1", "data=null", "synthetic.height=48"]))
    assert (config.batch_size, config.peak_lr, config.data) == (8, 1.0, None)
    assert (config.scene.width, config.scene.height) == (64, 48)
    for items, message in [
        (["lr=1"], "command line: unknown key 'lr'"),
        (["batch_size=a"], "command line: batch_size: expected int, got 'a'"),
        (["warmup_epochs=20"], "exp.yaml: warmup_epochs: expected fewer than num_epochs, got 20"),
        (["synthetic.colour=1"], "exp.yaml: synthetic: SceneConfig has no setting 'colour'"),
        (["negative_pair_ratio=1.5"], "negative_pair_ratio: expected a value in [0, 1], got 1.5"),
        (["batch_size"], "command line: override 'batch_size' must look like key.path=value"),
    ]:
        with pytest.raises(ConfigError) as error:
            load_train_config(path, parse_overrides(items))
        assert message in str(error.value)


def test_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such experiment file"):
        load_train_config(tmp_path / "absent.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match="expected a mapping of TrainConfig settings"):
        load_train_config(tmp_path / "list.yaml")
