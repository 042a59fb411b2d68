"""`python -m videoanalyst.run`: the shipped pipeline end to end, and one clear line for every mistake."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from videoanalyst.formats.mot_rows import read_mot_file
from videoanalyst.run import main

ROOT = Path(__file__).parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.slow
def test_shipped_pipeline_runs_on_the_builtin_clip(cache, capsys):
    out = cache / "out"
    code = main([str(ROOT / "pipelines/oracle_mot.yaml"), f"output={out}", "progress=false",
                 f"profile_json={out / 'profile.json'}"])
    assert code == 0
    printed = capsys.readouterr().out
    for stage in ("source", "oracle_detector", "mot_txt", "annotated_video", "json_lines"):
        assert stage in printed  # the per-stage profile table
    results = sorted(out.glob("*.txt"))
    assert len(results) == 1
    frames = read_mot_file(results[0])
    assert len(frames) > 10 and all((d.track_ids > 0).all() for d in frames.values())
    assert results[0].with_suffix(".mp4").is_file() and results[0].with_suffix(".jsonl").is_file()
    profile = json.loads((out / "profile.json").read_text())
    assert {s["name"] for s in profile["stages"]} >= {"source", "oracle_detector", "annotated_video"}


@pytest.mark.parametrize(
    "args, expected",
    [
        (["pipelines/oracle_mot.yaml", "stages.0.jiter=1"], "has no setting 'jiter' (did you mean 'jitter'?)"),
        (["pipelines/oracle_mot.yaml", "source.path=/no/such/folder"],
         "pipelines/oracle_mot.yaml: source.path: /no/such/folder: no such mot17 sequence or data-set folder"),
        (["pipelines/oracle_mot.yaml", "source.type=video", "source.path=/no/such.mp4"],
         "source.path: /no/such.mp4: no such file; expected a video file"),
        (["pipelines/absent.yaml"], "no such pipeline file"),
        (["pipelines/oracle_mot.yaml", "stages.0.type=sortt"], "unknown stage type 'sortt'"),
    ],
)
def test_mistakes_print_one_error_line_and_no_traceback(cache, args, expected):
    result = subprocess.run([sys.executable, "-m", "videoanalyst.run", *args, "progress=false"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) <= 2


@pytest.mark.slow
@pytest.mark.parametrize(("signal_name", "status"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_or_sigterm_keeps_a_readable_video_and_complete_result_files(tmp_path, signal_name, status):
    """Ctrl-C, and SIGTERM as `timeout` and `kill` send it, stop the run the same way: the interrupted message, exit
    130 or 143, the profile of what ran, and every sink's files complete and readable."""
    import signal
    import time

    from videoanalyst.sources.video import VideoSource

    pipeline = tmp_path / "long.yaml"
    pipeline.write_text(
        "source: {type: synthetic, width: 96, height: 64, num_frames: 100000, num_objects: 3}\n"
        "stages: [{type: oracle_detector, keep_identities: true, miss_rate: 0, false_positives: 0, min_visibility: 0}]\n"
        "sinks: [{type: mot_txt}, {type: annotated_video}]\n"
        f"output: {tmp_path / 'out'}\n")
    process = subprocess.Popen([sys.executable, "-m", "videoanalyst.run", str(pipeline)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = tmp_path / "out" / "synthetic-000.txt"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not results.exists() or results.stat().st_size < 2000):
        time.sleep(0.05)
    process.send_signal(getattr(signal, signal_name))
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert stderr.endswith("interrupted: what the sinks wrote so far is kept\n") and "Traceback" not in stderr
    assert "annotated_video" in stdout  # the profile of what ran is still printed
    frames_written = len(read_mot_file(results))
    assert frames_written > 0
    (stream,) = VideoSource(str(results.with_suffix(".mp4"))).streams()
    decoded = sum(1 for _ in stream)
    assert abs(decoded - frames_written) <= 1  # the frame in flight when Ctrl-C came may or may not be in


def _short_pipeline(tmp_path, frames=3):
    pipeline = tmp_path / "short.yaml"
    pipeline.write_text(
        f"source: {{type: synthetic, width: 64, height: 48, num_frames: {frames}, num_objects: 2}}\n"
        "stages: [{type: oracle_detector, keep_identities: true, miss_rate: 0, false_positives: 0, min_visibility: 0}]\n"
        "sinks: [{type: mot_txt}]\n"
        f"output: {tmp_path / 'out'}\n"
        "progress: false\n")
    return pipeline


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("device=cuda", "device: 'cuda' asks for a CUDA GPU, but torch sees none on this machine; use auto or cpu"),
        ("device=bogus", "device: expected a device, auto, cpu, cuda or cuda:N; got 'bogus'"),
    ],
)
def test_a_bad_device_stops_before_any_file_is_written(tmp_path, capsys, monkeypatch, override, message):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main([str(_short_pipeline(tmp_path)), override]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {tmp_path / 'short.yaml'}: {message}\n"
    assert captured.out == ""  # no profile of a run that never started
    assert not (tmp_path / "out").exists()


def test_a_stage_device_is_checked_when_the_pipeline_is_loaded(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    pipeline = _short_pipeline(tmp_path)
    pipeline.write_text(pipeline.read_text().replace("{type: oracle_detector", "{type: siamfcpp, device: cuda}]\n#"))
    assert main([str(pipeline)]) == 2
    assert capsys.readouterr().err == (f"error: {pipeline}: stages[0].device: 'cuda' asks for a CUDA GPU, but torch "
                                       "sees none on this machine; use auto or cpu\n")
    assert not (tmp_path / "out").exists()


def test_auto_runs_on_the_cpu_without_a_gpu(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main([str(_short_pipeline(tmp_path)), "device=auto"]) == 0
    assert len(read_mot_file(tmp_path / "out" / "synthetic-000.txt")) == 3


def test_list_names_the_pipelines_and_every_type(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(line.split()[:2] == ["pipelines/oracle_mot.yaml", "Decode"] for line in lines)
    for name in ("video", "siamfcpp", "faster_rcnn", "sort", "mot_txt", "annotated_video"):
        assert f"\n  {name} " in out


