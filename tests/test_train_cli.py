"""`python -m videoanalyst.train`: one `error:` line (exit 2) for every mistake, Ctrl-C keeps the last checkpoint
(exit 130), --resume continues, --exp finds the repository's experiments by name."""

import subprocess
import sys
from pathlib import Path

import pytest

from videoanalyst import train as cli
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig
from videoanalyst.training.checkpoints import read_loss_log
from videoanalyst.training.losses import SiamFCppLoss

ROOT = Path(__file__).parents[1]
TINY = [
    "synthetic={width: 96, height: 72, num_frames: 12, num_objects: 2}",
    "synthetic_sequences=1",
    "search_size=191",
    "batch_size=2",
    "images_per_epoch=4",
    "num_epochs=2",
    "num_workers=0",
    "log_every=1",
    "checkpoint_every=2",
]


@pytest.fixture
def experiment(tmp_path):
    path = tmp_path / "tiny_train.yaml"
    path.write_text("\n".join(item.replace("=", ": ", 1) for item in TINY) + "\n")
    return path


def _run(capsys, *args):
    code = cli.main([*map(str, args), "--no-progress"])
    return code, capsys.readouterr().err


def test_unknown_keys_name_the_key(experiment, capsys):
    code, err = _run(capsys, "--exp", experiment, "peak_lrr=0.1")
    assert code == 2
    assert err.startswith("error: command line: unknown key 'peak_lrr' (did you mean 'peak_lr'?)")
    experiment.write_text(experiment.read_text() + "lr: 0.1\n")
    code, err = _run(capsys, "--exp", experiment)
    assert code == 2 and err.startswith(f"error: {experiment}: unknown key 'lr'")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["batch_size=two"], "batch_size: expected int, got 'two'"),
        (["search_size=300"], "search_size: expected 127 + a positive multiple of 8, got 300"),
        (["synthetic.fps=0"], "synthetic: SceneConfig: need width, height >= 8"),
        (["--device", "cuda:x"], "--device: expected a device, auto, cpu, cuda or cuda:N; got 'cuda:x'"),
        (["device=gpu"], "command line: device: expected a device, auto, cpu, cuda or cuda:N; got 'gpu'"),
        (["search_size=167"], "search_size: 167 leaves siamfcpp_alexnet no score map; it needs at least 175"),
    ],
)
def test_bad_values_name_the_key(experiment, capsys, args, message):
    code, err = _run(capsys, "--exp", experiment, *args)
    assert code == 2 and message in err and err.startswith("error: ")


def test_missing_data_folder_and_malformed_ground_truth(experiment, tmp_path, capsys):
    code, err = _run(capsys, "--exp", experiment, "--data", tmp_path / "absent", "--output", tmp_path / "out")
    assert code == 2 and err == f"error: {tmp_path / 'absent'}: no such got10k sequence or data-set folder\n"
    folders = export_dataset("got10k", tmp_path / "data", SceneConfig(width=64, height=48, num_frames=6))
    (folders[0] / "groundtruth.txt").write_text("1,2,3,4\n1,2,3\n")
    code, err = _run(capsys, "--exp", experiment, "--data", tmp_path / "data", "--output", tmp_path / "out")
    assert code == 2 and "groundtruth.txt:2: expected 4 values a row, got 3" in err


def test_unknown_experiment_name(capsys):
    code, err = _run(capsys, "--exp", "no_such_experiment")
    assert code == 2 and "unknown experiment 'no_such_experiment'" in err


@pytest.mark.slow
def test_ctrl_c_keeps_the_last_checkpoint_and_resume_finishes(experiment, tmp_path, capsys, monkeypatch):
    output = tmp_path / "out"
    calls = []
    real = SiamFCppLoss.__call__

    def interrupted_at_third(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(SiamFCppLoss, "__call__", interrupted_at_third)
    code, err = _run(capsys, "--exp", experiment, "--output", output)
    assert code == 130 and "interrupted: the last checkpoint" in err
    assert (output / "checkpoint.pt").is_file() and not (output / "final.pt").exists()
    assert [row["step"] for row in read_loss_log(output / "log.jsonl")] == [1, 2]
    monkeypatch.setattr(SiamFCppLoss, "__call__", real)
    code, err = _run(capsys, "--exp", experiment, "--output", output)
    assert code == 2 and "holds a checkpoint already" in err
    code, _ = _run(capsys, "--exp", experiment, "--output", output, "--resume")
    assert code == 0 and (output / "final.pt").is_file()
    assert [row["step"] for row in read_loss_log(output / "log.jsonl")] == [1, 2, 3, 4]


@pytest.mark.slow
def test_experiment_found_by_name_from_anywhere(tmp_path):
    # Run as a user would, from another folder: the name resolves to the repository's experiments/.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "videoanalyst.train",
            "--exp",
            "siamfcpp_alexnet_synthetic_train",
            "--stop-at",
            "1",
            "--no-progress",
            "--output",
            str(tmp_path / "out"),
            *TINY,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "stopped at iteration 1 of 4; continue with --resume" in result.stdout
    assert len(read_loss_log(tmp_path / "out" / "log.jsonl")) == 1


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", "error: training: device: 'cuda' asks for a CUDA GPU, but torch sees none on this machine; use auto "
                 "or cpu\n"),
        ("bogus", "error: --device: expected a device, auto, cpu, cuda or cuda:N; got 'bogus'\n"),
    ],
)
def test_a_bad_device_is_one_line_and_writes_nothing(experiment, tmp_path, capsys, monkeypatch, device, message):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, err = _run(capsys, "--exp", experiment, "--device", device, "--output", tmp_path / "out")
    assert code == 2 and err == message
    assert not (tmp_path / "out").exists()


def test_auto_trains_on_the_cpu(experiment, tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, _ = _run(capsys, "--exp", experiment, "--device", "auto", "--stop-at", "1", "--output", tmp_path / "out")
    assert code == 0 and len(read_loss_log(tmp_path / "out" / "log.jsonl")) == 1


def test_train_takes_training_experiments_only(capsys):
    code, err = _run(capsys, "--exp", "siamfcpp_alexnet")
    assert code == 2 and err.startswith("error: siamfcpp_alexnet: a tracking experiment, for python -m "
                                        "videoanalyst.track; this command takes: reid_resnet50_synthetic_train, ")
    code, err = _run(capsys, "--exp", "no_such_experiment")
    assert "siamfcpp_alexnet_train" in err and "siamfcpp_alexnet," not in err
