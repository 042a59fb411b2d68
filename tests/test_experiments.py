"""Experiment files: every shipped one loads and names the published values; errors name the file and key;
weights are found in order (given file, official file in the cache, demo weights with a notice)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from videoanalyst import experiments
from videoanalyst.errors import ConfigError, InputError
from videoanalyst.experiment_files import EXPERIMENTS_DIR
from videoanalyst.experiments import load_experiment
from videoanalyst.models.siamfcpp import ours_to_official
from videoanalyst.models.siamfcpp.random_weights import randomize_
from videoanalyst.models.weights import file_md5

SHIPPED = sorted(p.stem for p in EXPERIMENTS_DIR.glob("siamfcpp_*.yaml") if not p.stem.endswith("_train"))


def test_the_published_models_are_all_there():
    assert {
        "siamfcpp_alexnet",
        "siamfcpp_googlenet",
        "siamfcpp_alexnet_got",
        "siamfcpp_googlenet_got",
        "siamfcpp_alexnet_multi_temp",
        "siamfcpp_googlenet_multi_temp",
    } <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_experiment_loads_and_builds_its_network(name):
    experiment = load_experiment(name)
    network = experiment.build_network()
    assert network.score_size(experiment.tracker_kwargs["search_size"]) in (17, 19)
    assert experiment.weights.expected_md5 and experiment.weights.url


def test_official_values():
    """video_analyst experiments/siamfcpp/test/{vot,got10k}/*.yaml (FACTS.md)."""
    vot, got = load_experiment("siamfcpp_alexnet"), load_experiment("siamfcpp_alexnet_got")
    assert (vot.tracker_kwargs["test_lr"], vot.tracker_kwargs["penalty_k"], vot.tracker_kwargs["window_influence"]) == (
        0.58,
        0.08,
        0.21,
    )
    assert (got.tracker_kwargs["test_lr"], got.tracker_kwargs["penalty_k"]) == (0.52, 0.04)
    google = load_experiment("siamfcpp_googlenet")
    assert google.model_kwargs == {"num_convs": 2, "tower_batch_norm": [False, False]}
    assert google.tracker_kwargs["test_lr"] == pytest.approx(0.5094, abs=1e-4)
    assert vot.weights.file == "siamfcpp-alexnet-vot-md5_88e4e9ee476545b952b04ae80c480f08.pkl"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "model: {type: siamfcpp_alexnet}\ntracker: {test_lr: 0.5, penalty: 1}\nweights: {file: w.pkl}",
            r"bad.yaml: tracker: SiamFCppTracker has no setting 'penalty' \(did you mean 'penalty_k'\?\)",
        ),
        ("model: {type: siamfcpp_resnet}\nweights: {file: w.pkl}", r"bad.yaml: model.type: expected one of"),
        (
            "model: {type: siamfcpp_alexnet, num_convs: three}\nweights: {file: w.pkl}",
            r"bad.yaml: model.num_convs: expected int, got 'three'",
        ),
        ("model: {type: siamfcpp_alexnet}\nweights: {md5: abc}", r"bad.yaml: weights: weights needs setting 'file'"),
        ("model: {type: siamfcpp_alexnet}\nweights: {file: w.pkl}\nschedule: {}", r"bad.yaml: unknown key 'schedule'"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_experiment(path)


def test_unknown_experiment_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown experiment 'siamfcpp_alexnett'; known: .*siamfcpp_alexnet"):
        load_experiment("siamfcpp_alexnett")


def test_weights_order_given_then_cache_then_demo(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIDEOANALYST_WEIGHTS", str(tmp_path / "cache"))
    demo_dir = tmp_path / "packaged"
    demo_dir.mkdir()
    monkeypatch.setattr(experiments, "PACKAGED_WEIGHTS_DIR", demo_dir)
    experiment = load_experiment("siamfcpp_alexnet")
    with pytest.raises(ConfigError, match="no packaged weights named 'siamfcpp_alexnet_synthetic'"):
        experiment.weights_path()

    network = randomize_(experiment.build_network(), seed=2)
    demo = demo_dir / "siamfcpp_alexnet_synthetic-md5_0123456789abcdef0123456789abcdef.pt"
    torch.save(network.state_dict(), demo)
    with pytest.raises(Exception, match="does not match"):  # the md5 in the name is checked
        experiment.weights_path()
    checked = demo_dir / f"siamfcpp_alexnet_synthetic-md5_{file_md5(demo)}.pt"
    demo.rename(checked)
    path, notice = experiment.weights_path()
    assert path == checked and "demo weights, trained on synthetic scenes only" in notice
    assert str(experiment.weights.cached_path) in notice

    official = experiment.weights.cached_path
    official.parent.mkdir(parents=True)
    torch.save({ours_to_official(k): v for k, v in network.state_dict().items()}, official)
    with pytest.raises(Exception, match="does not match"):  # the official name's md5 is not this file's
        experiment.weights_path()
    own = tmp_path / "mine.pt"
    torch.save(network.state_dict(), own)
    assert experiment.weights_path(own) == (own, None)
    tracker, used = experiment.build_tracker(own)
    assert used == own and tracker.test_lr == 0.58
    assert capsys.readouterr().err == ""


def test_experiment_without_demo_weights_says_where_the_file_goes(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOANALYST_WEIGHTS", str(tmp_path))
    with pytest.raises(
        ConfigError,
        match=r"siamfcpp_googlenet: weights file siamfcpp-googlenet-vot-md5_\w+\.pkl not "
        r"found: put it at .*siamfcpp.*drive\.google",
    ):
        load_experiment("siamfcpp_googlenet").weights_path()


def test_experiment_files_are_found_by_path_and_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_experiment(Path(EXPERIMENTS_DIR / "siamfcpp_alexnet.yaml")).name == "siamfcpp_alexnet"
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "mine.yaml").write_text((EXPERIMENTS_DIR / "siamfcpp_alexnet.yaml").read_text())
    assert load_experiment("mine").path == Path("experiments/mine.yaml")


def test_overrides_change_a_block_and_unknown_ones_are_refused_naming_the_command_line():
    experiment = load_experiment("siamfcpp_alexnet", ["tracker.exact=true", "tracker.test_lr=0.3"])
    assert experiment.tracker_kwargs["exact"] is True and experiment.tracker_kwargs["test_lr"] == 0.3
    assert "exact" not in load_experiment("siamfcpp_alexnet").tracker_kwargs  # the file itself is unchanged
    with pytest.raises(ConfigError, match=r"^command line: tracker.penalty: tracker has no setting 'penalty' "
                                          r"\(did you mean 'penalty_k'\?\)"):
        load_experiment("siamfcpp_alexnet", {"tracker.penalty": 0.1})
    with pytest.raises(ConfigError, match=r"^command line: 'tracker': expected BLOCK.KEY=value"):
        load_experiment("siamfcpp_alexnet", ["tracker=1"])
    with pytest.raises(ConfigError, match=r"siamfcpp_alexnet.yaml: tracker.exact: expected bool, got 'yes please'"):
        load_experiment("siamfcpp_alexnet", ["tracker.exact=yes please"])


def test_training_experiments_are_not_offered_for_tracking():
    with pytest.raises(ConfigError, match=r"^siamfcpp_alexnet_train: a training experiment, for python -m "
                                          r"videoanalyst.train; this command takes: siamfcpp_alexnet, "):
        load_experiment("siamfcpp_alexnet_train")


def test_a_checkpoint_of_another_model_names_the_model_once(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"other.weight": torch.zeros(1)}, path)
    with pytest.raises(InputError, match=r"not a checkpoint of siamfcpp_alexnet; missing"):
        load_experiment("siamfcpp_alexnet").build_tracker(path)
