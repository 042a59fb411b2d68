"""`python -m videoanalyst.track`: the built-in clip, a folder of images from --init, results rows, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from videoanalyst.models.siamfcpp import siamfcpp_alexnet
from videoanalyst.models.siamfcpp.random_weights import randomize_
from videoanalyst.synthetic.scene import Scene, SceneConfig
from videoanalyst.track import main


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "random.pt"
    torch.save(randomize_(siamfcpp_alexnet(), seed=0).state_dict(), path)
    return str(path)


@pytest.fixture
def frames(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    scene = Scene(SceneConfig(width=96, height=72, num_frames=4, seed=2))
    for index in range(4):
        Image.fromarray(scene.frame(index)).save(folder / f"img{index:03d}.png")
    return folder


def test_folder_of_images_from_an_init_box(tmp_path, frames, weights, capsys):
    rows = tmp_path / "boxes.txt"
    code = main(
        [
            "--video",
            str(frames),
            "--init",
            "10,12,30,20",
            "--weights",
            weights,
            "--save-results",
            str(rows),
            "--output",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    lines = rows.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == "10.000,12.000,30.000,20.000"
    assert np.loadtxt(rows, delimiter=",").shape == (4, 4)
    assert (tmp_path / "out" / "frames.mp4").is_file()
    out = capsys.readouterr().out
    assert "siamfcpp" in out and "done: 4 frames" in out


@pytest.mark.slow
def test_built_in_clip_reports_how_well_the_target_was_kept(tmp_path, weights, capsys):
    assert main(["--weights", weights, "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "target kept (IoU >= 0.5 with the ground truth) on" in out
    assert len((tmp_path / "results.txt").read_text().splitlines()) == 100


@pytest.mark.slow
def test_the_demo_weights_keep_the_built_in_clips_target(tmp_path, capsys, monkeypatch):
    """The issue's bar for the demo: with no official file, `python -m videoanalyst.track --exp siamfcpp_alexnet`
    keeps the built-in clip's target (IoU >= 0.5 with its ground truth) on at least 90 % of the frames."""
    monkeypatch.setenv("VIDEOANALYST_WEIGHTS", str(tmp_path / "no-official-weights"))
    assert main(["--exp", "siamfcpp_alexnet", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    kept = float(out.split("target kept (IoU >= 0.5 with the ground truth) on ")[1].split("%")[0])
    assert kept >= 90.0, out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--init", "1,2,3"], "--init: expected x,y,w,h with a positive width and height, got '1,2,3'"),
        (["--exp", "siamfcpp_alexnett"], "unknown experiment 'siamfcpp_alexnett'"),
        (["--weights", "/nonexistent/w.pkl"], "/nonexistent/w.pkl: no such weights file"),
    ],
)
def test_bad_arguments_are_one_line(argv, message, tmp_path, capsys):
    assert main([*argv, "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_folder_without_ground_truth_needs_init(frames, tmp_path, weights, capsys):
    assert main(["--video", str(frames), "--weights", weights, "--output", str(tmp_path)]) == 2
    assert "no ground truth to start from; give the target with --init x,y,w,h" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", "error: --device: 'cuda' asks for a CUDA GPU, but torch sees none on this machine; use auto or cpu\n"),
        ("bogus", "error: --device: expected a device, auto, cpu, cuda or cuda:N; got 'bogus'\n"),
    ],
)
def test_a_bad_device_is_one_line_and_writes_nothing(tmp_path, weights, capsys, monkeypatch, device, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["--weights", weights, "--device", device, "--output", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err == message and captured.out == ""
    assert not (tmp_path / "out").exists()


def test_auto_runs_on_the_cpu_and_overrides_change_the_experiment(tmp_path, frames, weights, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    argv = ["--video", str(frames), "--init", "10,12,30,20", "--weights", weights, "--device", "auto"]
    assert main([*argv, "--output", str(tmp_path / "a"), "tracker.exact=true", "tracker.test_lr=0.3"]) == 0
    assert len((tmp_path / "a" / "results.txt").read_text().splitlines()) == 4
    capsys.readouterr()
    assert main([*argv, "--output", str(tmp_path / "b"), "tracker.exat=true"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: command line: tracker.exat: tracker has no setting 'exat' (did you mean 'exact'?)"
    )
    assert main([*argv, "--output", str(tmp_path / "b"), "trackr.exact=true"]) == 2
    assert "expected BLOCK.KEY=value with BLOCK one of model, tracker, weights (did you mean 'tracker'?)" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "b").exists()


def test_overrides_reach_the_tracker(weights, monkeypatch):
    from videoanalyst.trackers.siamfcpp import SiamFCpp

    stage = SiamFCpp(weights=weights, experiment_overrides={"tracker.exact": True, "tracker.test_lr": 0.3})
    assert stage.tracker.crop_backend == "opencv" and stage.tracker.test_lr == 0.3  # exact: video_analyst's crop


def test_list_and_the_experiments_offered_are_those_track_runs(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "siamfcpp_alexnet_got" in out and "_train" not in out
    assert main(["--exp", "siamfcpp_alexnett"]) == 2
    assert "_train" not in capsys.readouterr().err
    assert main(["--exp", "siamfcpp_alexnet_train"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: siamfcpp_alexnet_train: a training experiment, for python -m videoanalyst.train; this command takes: "
    )


def test_a_set_up_error_names_the_command_and_prints_no_profile(tmp_path, frames, capsys):
    """Random bytes as weights: the error names the command (not `<pipeline dict>`) and the file, never advises
    weights_only=False, and no table of zeros is printed."""
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(np.random.default_rng(0).bytes(4096))
    assert main(["--video", str(frames), "--init", "1,2,8,8", "--weights", str(junk), "--output", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: track --exp siamfcpp_alexnet: stages[0].weights: ")
    assert "junk.pkl: not a PyTorch checkpoint, or a damaged one" in captured.err
    assert "weights_only" not in captured.err and captured.out == ""
