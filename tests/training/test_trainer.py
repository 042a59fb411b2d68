"""The training loop on a tiny synthetic set: the loss goes down, a resumed run continues exactly, checkpoints and
final weights are written where they should be."""

import pytest
import torch

from videoanalyst.errors import ConfigError, InputError
from videoanalyst.models.siamfcpp import load_checkpoint, siamfcpp_alexnet
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig
from videoanalyst.training.checkpoints import read_loss_log
from videoanalyst.training.config import TrainConfig
from videoanalyst.training.trainer import train

TINY = {"width": 96, "height": 72, "num_frames": 12, "num_objects": 2}


def _config(**changes):
    settings = dict(
        synthetic=TINY,
        synthetic_sequences=1,
        search_size=191,
        batch_size=2,
        images_per_epoch=6,
        num_epochs=2,
        warmup_epochs=1,
        peak_lr=0.01,
        num_workers=0,
        checkpoint_every=3,
        log_every=1,
    )
    return TrainConfig(**{**settings, **changes})


@pytest.mark.slow
def test_a_few_iterations_lower_the_loss(tmp_path):
    # One object, no shift, scale or negatives: nearly the same pair every time, which the network learns quickly.
    config = _config(
        synthetic={**TINY, "num_objects": 1, "num_frames": 4},
        max_shift=0.0,
        max_scale=0.0,
        negative_pair_ratio=0.0,
        images_per_epoch=24,
        num_epochs=1,
        warmup_epochs=0,
        peak_lr=0.02,
        checkpoint_every=100,
    )
    train(config, tmp_path, progress=False)
    losses = [row["loss"] for row in read_loss_log(tmp_path / "log.jsonl")]
    assert len(losses) == 12
    assert sum(losses[-4:]) < 0.7 * sum(losses[:4])  # measured: 8.1, 7.3, 5.8, 3.7 ... 3.4, 3.1, 2.8, 2.6


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert train(_config(), whole, progress=False) == 6
    assert train(_config(), parts, stop_at=3, progress=False) == 3
    assert not (parts / "final.pt").exists() and (parts / "checkpoint.pt").is_file()
    # The resumed half may load with other workers: every pair is drawn from its own seed.
    assert train(_config(num_workers=1), parts, resume=True, progress=False) == 6
    expected, resumed = read_loss_log(whole / "log.jsonl"), read_loss_log(parts / "log.jsonl")
    assert [row["step"] for row in resumed] == [1, 2, 3, 4, 5, 6]
    for key in ("loss", "cls", "ctr", "reg", "lr"):
        assert [row[key] for row in resumed] == [row[key] for row in expected]
    final_whole = torch.load(whole / "final.pt", weights_only=True)
    final_parts = torch.load(parts / "final.pt", weights_only=True)
    assert all(torch.equal(final_whole[key], final_parts[key]) for key in final_whole)
    # final.pt: fp32 weights the tracker's network loads.
    assert all(v.dtype in (torch.float32, torch.int64) for v in final_whole.values())
    load_checkpoint(siamfcpp_alexnet(), whole / "final.pt")


def test_a_checkpoint_is_never_overwritten_by_a_new_run(tmp_path):
    train(_config(), tmp_path, stop_at=1, progress=False)
    with pytest.raises(ConfigError, match="holds a checkpoint already; continue it with --resume"):
        train(_config(), tmp_path, progress=False)
    with pytest.raises(ConfigError, match=r"saved with other settings: peak_lr \(0.01 -> 0.02\)"):
        train(_config(peak_lr=0.02), tmp_path, resume=True, progress=False)
    assert [row["step"] for row in read_loss_log(tmp_path / "log.jsonl")] == [1]


def test_trains_on_got10k_folders(tmp_path):
    export_dataset("got10k", tmp_path / "data", SceneConfig(**TINY), num_sequences=2)
    assert train(_config(data=str(tmp_path / "data")), tmp_path / "out", stop_at=2, progress=False) == 2
    rows = read_loss_log(tmp_path / "out" / "log.jsonl")
    assert [row["step"] for row in rows] == [1, 2] and all(row["loss"] > 0 for row in rows)


def test_a_run_starts_from_init_weights(tmp_path):
    torch.manual_seed(123)  # weights unlike the run's own seed-0 initialisation
    initial = siamfcpp_alexnet().state_dict()
    torch.save(initial, tmp_path / "init.pt")
    still = dict(start_lr=1e-9, peak_lr=1e-9, end_lr=1e-9, momentum=0.0, weight_decay=0.0)  # the weights barely move
    train(_config(init_weights=str(tmp_path / "init.pt"), **still), tmp_path / "tuned", progress=False)
    train(_config(**still), tmp_path / "scratch", progress=False)
    tuned = torch.load(tmp_path / "tuned" / "final.pt", weights_only=True)
    scratch = torch.load(tmp_path / "scratch" / "final.pt", weights_only=True)
    convs = [key for key in initial if key.endswith("conv.weight")]
    assert convs and all(torch.allclose(tuned[key], initial[key], atol=1e-6) for key in convs)
    backbone = [key for key in convs if key.startswith("backbone.")]
    assert not any(torch.allclose(scratch[key], initial[key], atol=1e-3) for key in backbone)


def test_init_weights_of_another_model_are_refused(tmp_path):
    torch.save({"backbone.weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(InputError, match=r"other.pt: not a checkpoint of siamfcpp_alexnet; missing"):
        train(_config(init_weights=str(tmp_path / "other.pt")), tmp_path / "out", progress=False)
    with pytest.raises(InputError, match=r"absent.pt: no such weights file"):
        train(_config(init_weights=str(tmp_path / "absent.pt")), tmp_path / "out", progress=False)


def test_a_damaged_checkpoint_is_refused_without_torchs_unsafe_advice(tmp_path):
    """Resuming from random bytes names the file and never suggests ``weights_only=False``, which would run
    whatever code such a file holds."""
    output = tmp_path / "out"
    output.mkdir()
    (output / "checkpoint.pt").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"checkpoint.pt: not a training checkpoint: not a PyTorch checkpoint") as error:
        train(_config(), output, resume=True, progress=False)
    assert "weights_only" not in str(error.value)
