import textwrap

import pytest

from videoanalyst.errors import ConfigError, VideoAnalystError
from videoanalyst.pipeline.build import build_pipeline, run_pipeline
from videoanalyst.pipeline.config import load_pipeline

SOURCE = {"type": "conftest:CountingSource", "lengths": {"a": 4}}


def write(tmp_path, text):
    path = tmp_path / "pipe.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_a_valid_file_is_checked_and_built(tmp_path):
    path = write(tmp_path, """
        source: {type: "conftest:CountingSource", lengths: {a: 4}}
        stages:
          - {type: oracle_detector, jitter: 0, miss_rate: 0}
        sinks:
          - {type: json_lines}
        output: out
        max_streams: 2
    """)
    config = load_pipeline(path)
    assert config.stages[0].kwargs == {"jitter": 0.0, "miss_rate": 0.0}
    assert isinstance(config.stages[0].kwargs["jitter"], float)  # ints pass where floats are expected
    assert config.settings.max_streams == 2 and config.settings.output == "out"
    pipeline = build_pipeline(config)
    assert pipeline.max_streams == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("stages: [{type: oracle_detectr}]", r"stages\[0\]\.type: unknown stage type 'oracle_detectr'; known: .*oracle_detector"),
        ("stages: [{type: oracle_detector, jiter: 0.1}]",
         r"stages\[0\]: oracle_detector has no setting 'jiter' \(did you mean 'jitter'\?\); allowed: jitter, miss_rate"),
        ("stages: [{type: oracle_detector, jitter: lots}]", r"stages\[0\]\.jitter: expected float, got 'lots'"),
        ("stages: [{type: oracle_detector, seed: 1.5}]", r"stages\[0\]\.seed: expected int, got 1.5"),
        ("stages: [{jitter: 0.1}]", r"stages\[0\]: expected a block with a 'type' key"),
        ("sinks: [{type: mot_txt, key: 3}]", r"sinks\[0\]\.key: expected str, got 3"),
        ("sinks: [{type: oracle_detector}]", r"sinks\[0\]\.type: unknown sink type 'oracle_detector'"),
        ("stages: [{type: 'videoanalyst.nothing:Stage'}]", r"stages\[0\]\.type: stage type .* cannot import"),
        ("stages: {type: oracle_detector}", r"stages must be a list of blocks"),
        ("outptu: runs/x", r"unknown key 'outptu' \(did you mean 'output'\?\)"),
        ("max_streams: two", r"max_streams: expected int, got 'two'"),
        ("batch_size: 0", r"batch_size: expected an int >= 1, got 0"),
        ("progress_interval: -1", r"progress_interval: expected seconds >= 0, got -1"),
    ],
)
def test_every_mistake_names_the_file_the_key_and_what_is_allowed(tmp_path, text, expected):
    path = write(tmp_path, "source: {type: 'conftest:CountingSource', lengths: {a: 1}}\n" + text)
    with pytest.raises(ConfigError, match=expected) as error:
        load_pipeline(path)
    assert str(error.value).startswith(str(path))


def test_missing_source_and_missing_required_setting(tmp_path):
    with pytest.raises(ConfigError, match="missing key 'source'"):
        load_pipeline(write(tmp_path, "stages: []"))
    with pytest.raises(ConfigError, match="CountingSource needs setting 'lengths'"):
        load_pipeline(write(tmp_path, "source: {type: 'conftest:CountingSource'}"))


def test_missing_and_broken_pipeline_files(tmp_path):
    with pytest.raises(ConfigError, match="no such pipeline file"):
        load_pipeline(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_pipeline(write(tmp_path, "source: [unclosed"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_pipeline(write(tmp_path, "- a list"))


def test_dotted_overrides_reach_any_setting():
    raw = {"source": dict(SOURCE), "stages": [{"type": "oracle_detector"}, {"type": "oracle_detector"}],
           "sinks": [{"type": "mot_txt"}]}
    config = load_pipeline(raw, ["output=runs/x", "stages.1.jitter=0.2", "sinks.mot_txt.tracked_only=false",
                                 "source.lengths={b: 2}", "progress=false"])
    assert config.settings.output == "runs/x" and config.settings.progress is False
    assert config.stages[1].kwargs == {"jitter": 0.2} and config.stages[0].kwargs == {}
    assert config.sinks[0].kwargs == {"tracked_only": False}
    assert config.source.kwargs["lengths"] == {"b": 2}
    assert "output" not in raw  # the caller's dict is not modified


@pytest.mark.parametrize(
    "override, expected",
    [
        ("stages.oracle_detector.jitter=1", r"'oracle_detector' must name exactly one block"),
        ("stages.5.jitter=1", r"index 5 out of range"),
        ("nonsense.key=1", r"no block 'nonsense'"),
        ("no-equals-sign", r"must look like key.path=value"),
        ("stages.0.jiter=1", r"has no setting 'jiter'"),
    ],
)
def test_bad_overrides(override, expected):
    raw = {"source": dict(SOURCE), "stages": [{"type": "oracle_detector"}, {"type": "oracle_detector"}]}
    with pytest.raises(ConfigError, match=expected):
        load_pipeline(raw, [override])


def test_run_pipeline_from_python_writes_outputs_and_profile(tmp_path, capsys):
    raw = {"source": {"type": "conftest:CountingSource", "lengths": {"a": 3, "b": 2}},
           "sinks": [{"type": "json_lines"}], "output": str(tmp_path / "out"),
           "profile_json": str(tmp_path / "profile.json"), "progress": False}
    report = run_pipeline(raw)
    assert report.frames == {"a": 3, "b": 2}
    assert len((tmp_path / "out" / "a.jsonl").read_text().splitlines()) == 3
    assert (tmp_path / "profile.json").is_file()
    assert "json_lines" in capsys.readouterr().out


def test_two_synthetic_streams_interleaved_write_one_file_each(tmp_path):
    raw = {"source": {"type": "synthetic", "num_streams": 2, "num_frames": 12, "width": 64, "height": 48},
           "stages": [{"type": "oracle_detector", "keep_identities": True, "false_positives": 0}],
           "sinks": [{"type": "mot_txt"}], "output": str(tmp_path), "max_streams": 2, "progress": False}
    report = run_pipeline(raw, print_profile=False)
    assert report.frames == {"synthetic-000": 12, "synthetic-001": 12}
    first = (tmp_path / "synthetic-000.txt").read_text()
    second = (tmp_path / "synthetic-001.txt").read_text()
    assert first and second and first != second  # different scenes, no rows crossed over


def test_values_are_coerced_inside_optional_and_containers():
    from videoanalyst.pipeline.config import check_value

    assert check_value(30, float | None, "fps") == 30.0 and isinstance(check_value(30, float | None, "fps"), float)
    assert check_value(None, float | None, "fps") is None
    assert check_value([1, 2], tuple[float, float], "range") == (1.0, 2.0)
    assert all(isinstance(v, float) for v in check_value([1, 2], tuple[float, float], "range"))
    assert check_value([1, 2.5], list[float] | None, "xs") == [1.0, 2.5]


def test_the_run_device_is_checked_and_auto_resolved_when_loaded(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    raw = {"source": dict(SOURCE)}
    assert load_pipeline(raw, {"device": "auto"}).settings.device == "cpu"
    with pytest.raises(ConfigError, match=r"^mine: device: 'cuda' asks for a CUDA GPU, but torch sees none"):
        load_pipeline(raw, {"device": "cuda"}, label="mine")
    with pytest.raises(ConfigError, match=r"^<pipeline dict>: device: expected a device, auto, cpu, cuda or cuda:N"):
        load_pipeline(raw, {"device": "gpu"})


def test_no_profile_when_set_up_fails_before_any_frame(tmp_path, capsys):
    raw = {"source": {"type": "conftest:CountingSource", "lengths": {"a": 3}},
           "sinks": [{"type": "json_lines"}], "output": str(tmp_path / "out"),
           "profile_json": str(tmp_path / "profile.json"), "progress": False,
           "stages": [{"type": "public_detections", "path": str(tmp_path / "absent.txt")}]}
    with pytest.raises(VideoAnalystError, match="absent.txt"):
        run_pipeline(raw)
    assert capsys.readouterr().out == "" and not (tmp_path / "profile.json").exists()
