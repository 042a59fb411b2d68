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
        (["pipelines/oracle_mot.yaml", "source.path=/no/such/folder"], "/no/such/folder"),
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
