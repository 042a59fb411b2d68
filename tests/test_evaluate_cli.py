"""`python -m videoanalyst.evaluate`: the table and JSON hold what `evaluate_*` returns on every benchmark, trackers
selected by --tracker, bad input refused with one line naming the file (exit 2); with --exp, a tracker run into the
official layouts that resumes; under torchrun, two processes give the numbers of one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from videoanalyst.core.detections import Detections
from videoanalyst.evaluate import main
from videoanalyst.evaluators import evaluate_got10k, evaluate_mot, evaluate_ope, evaluate_vot, run_vot_supervised
from videoanalyst.evaluators import run_tracker as run_tracker_module
from videoanalyst.evaluators.vot import read_vot_sequences
from videoanalyst.experiments import Experiment, load_experiment
from videoanalyst.formats.mot_rows import detections_to_mot_rows, format_mot_rows, read_mot_file
from videoanalyst.formats.vot_results import format_vot_code, format_vot_region
from videoanalyst.models.siamfcpp.random_weights import randomize_
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig

SCENE = SceneConfig(width=64, height=48, num_frames=12, num_objects=3)
TINY = SceneConfig(width=64, height=48, num_frames=4)
EVALUATORS = {"got10k": evaluate_got10k, "ope": evaluate_ope, "vot": evaluate_vot, "mot": evaluate_mot}
PLOTS = {
    "got10k": ["success_plot.png"],
    "ope": ["norm_precision_plots.png", "precision_plots.png", "success_plots.png"],
    "vot": ["eao_curves.png"],
    "mot": [],
}


class Stay:
    """Repeats the initial box."""

    def initialize(self, image, box):
        self.box = np.asarray(box)

    def track(self, image):
        return self.box


def _got10k_like(root):
    """A GOT-10k split (also an OPE data set: ``groundtruth.txt`` in each folder), results of a perfect and a
    stay-put tracker in both layouts (got10k ``ExperimentGOT10k._record``, ``ExperimentOTB._record``)."""
    folders = export_dataset("got10k", root / "gt", SCENE, num_sequences=2)
    for folder in folders:
        name, truth = folder.name, np.loadtxt(folder / "groundtruth.txt", delimiter=",")
        for tracker, boxes in (("perfect", truth), ("stay", np.repeat(truth[:1], len(truth), axis=0))):
            for results, boxes_file, times_file in (
                ("got10k", f"{name}/{name}_001.txt", f"{name}/{name}_time.txt"),
                ("ope", f"{name}.txt", f"times/{name}_time.txt"),
            ):
                (root / results / tracker / boxes_file).parent.mkdir(parents=True, exist_ok=True)
                (root / results / tracker / times_file).parent.mkdir(parents=True, exist_ok=True)
                np.savetxt(root / results / tracker / boxes_file, boxes, fmt="%.4f", delimiter=",")
                np.savetxt(root / results / tracker / times_file, np.full(len(truth), 0.01), fmt="%.8f")


def _vot(root):
    """VOT sequences; a perfect run (the ground truth's regions) and a stay-put tracker's supervised runs."""
    export_dataset("vot", root / "gt", SCENE, num_sequences=2)
    for sequence in read_vot_sequences(root / "gt"):
        lines = [format_vot_code(1)] + [format_vot_region(region) for region in sequence.regions[1:]]
        path = root / "vot" / "perfect" / "baseline" / sequence.name / f"{sequence.name}_001.txt"
        path.parent.mkdir(parents=True)
        path.write_text("".join(lines))
    run_vot_supervised(Stay(), "stay", root / "gt", root / "vot")


def _mot(root):
    """A MOT17 split; the ground truth as a perfect tracker's results, the first frame's boxes on every frame as a
    stay-put one's."""
    for folder in export_dataset("mot17", root / "gt", SCENE, num_sequences=2):
        truth = read_mot_file(folder / "gt" / "gt.txt", kind="gt")
        first = Detections(xyxy=truth[1].xyxy, track_ids=truth[1].track_ids)
        for tracker, frames in (("perfect", truth), ("stay", {frame: first for frame in truth})):
            path = root / "mot" / tracker / f"{folder.name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(format_mot_rows(detections_to_mot_rows(f, d)) for f, d in frames.items()))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """{benchmark: (gt root, results root)}, each results root holding trackers ``perfect`` and ``stay``."""
    root = tmp_path_factory.mktemp("benchmarks")
    _got10k_like(root / "sot")
    _vot(root / "vot")
    _mot(root / "mot")
    return {
        "got10k": (root / "sot" / "gt", root / "sot" / "got10k"),
        "ope": (root / "sot" / "gt", root / "sot" / "ope"),
        "vot": (root / "vot" / "gt", root / "vot" / "vot"),
        "mot": (root / "mot" / "gt", root / "mot" / "mot"),
    }


def _copy(data, benchmark, tmp_path):
    """A private copy of one benchmark's results, so the report and plots written there stay apart."""
    gt, results = data[benchmark]
    shutil.copytree(results, tmp_path / "results")
    return gt, tmp_path / "results"


def _json(report):
    return json.loads(json.dumps(report.to_dict()))


@pytest.mark.parametrize("benchmark", list(EVALUATORS))
def test_table_json_and_plots_hold_the_evaluators_numbers(benchmark, data, tmp_path, capsys):
    gt, results = _copy(data, benchmark, tmp_path)
    assert main([benchmark, "--gt", str(gt), "--results", str(results)]) == 0
    out = capsys.readouterr().out
    expected = EVALUATORS[benchmark](gt, results, ["perfect", "stay"])
    assert expected.table().rstrip("\n") in out
    assert json.loads((results / f"{benchmark}_report.json").read_text()) == _json(expected)
    assert sorted(p.name for p in (results / "plots").glob("*.png")) == PLOTS[benchmark]
    # A second run does not take the plots folder it wrote for a tracker.
    assert main([benchmark, "--gt", str(gt), "--results", str(results)]) == 0
    assert json.loads((results / f"{benchmark}_report.json").read_text()) == _json(expected)


def test_a_perfect_tracker_scores_as_the_toolkits_say(data, tmp_path):
    """GOT-10k AO 1 (IoU of equal boxes); OPE success AUC 20/21 (got10k ExperimentOTB, FACTS.md); VOT A 1 with no
    failure; MOT MOTA and IDF1 1."""
    scores = {}
    for benchmark in EVALUATORS:
        gt, results = data[benchmark]
        path = tmp_path / f"{benchmark}.json"
        argv = [benchmark, "--gt", str(gt), "--results", str(results), "--tracker", "perfect", "--json", str(path)]
        assert main([*argv, "--plots", str(tmp_path / "plots")]) == 0
        scores[benchmark] = json.loads(path.read_text())["trackers"]
        assert list(scores[benchmark]) == ["perfect"]
    assert scores["got10k"]["perfect"]["ao"] == pytest.approx(1.0)
    assert scores["ope"]["perfect"]["overall"]["success_auc"] == pytest.approx(20 / 21)
    assert scores["vot"]["perfect"]["accuracy"] == pytest.approx(1.0) and scores["vot"]["perfect"]["failures"] == 0
    assert scores["mot"]["perfect"]["COMBINED"]["MOTA"] == 1.0 and scores["mot"]["perfect"]["COMBINED"]["IDF1"] == 1.0


def test_tracker_selection_per_sequence_and_eao_interval(data, tmp_path, capsys):
    gt, results = data["vot"]
    path = tmp_path / "vot.json"
    argv = ["vot", "--gt", str(gt), "--results", str(results), "--tracker", "stay", "--json", str(path)]
    assert main([*argv, "--plots", str(tmp_path / "plots"), "--per-sequence", "--eao-interval", "0", "5"]) == 0
    out = capsys.readouterr().out
    expected = evaluate_vot(gt, results, ["stay"], eao_interval=(0, 5))
    assert expected.table(per_sequence=True).rstrip("\n") in out and "perfect" not in out
    assert "synthetic-000" in out and "synthetic-001" in out
    assert json.loads(path.read_text()) == _json(expected)
    assert expected.scores[0].eao_interval == (0, 5)


@pytest.mark.parametrize(
    "make_argv, named",
    [
        (lambda gt, res: ["got10k", "--gt", str(gt / "missing"), "--results", str(res)], "missing"),
        (lambda gt, res: ["got10k", "--gt", str(gt), "--results", str(res / "missing")], "missing"),
        (lambda gt, res: ["got10k", "--gt", str(gt), "--results", str(res), "--tracker", "nobody"], "'nobody'"),
    ],
)
def test_missing_folders_and_unknown_trackers_exit_2(make_argv, named, data, tmp_path, capsys):
    gt, results = _copy(data, "got10k", tmp_path)
    assert main(make_argv(gt, results)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and named in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("benchmark", list(EVALUATORS))
def test_a_malformed_result_file_is_named_with_its_line(benchmark, data, tmp_path, capsys):
    gt, results = _copy(data, benchmark, tmp_path)
    path = sorted(p for p in (results / "stay").rglob("*.txt") if "time" not in p.name)[0]
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:2], "1,2,3;4\n", *lines[3:]]))
    assert main([benchmark, "--gt", str(gt), "--results", str(results)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:3") and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["mot", "--exp", "siamfcpp_alexnet"], "no mot tracker to run"),
        (["got10k", "--weights", "w.pt"], "--weights: only with --exp"),
        (["got10k", "--eao-interval", "1", "2"], "--eao-interval"),
        (["vot", "--exp", "siamfcpp_alexnet", "--name", "a/b"], "--name: expected a folder name"),
    ],
)
def test_options_that_cannot_apply_exit_2(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--gt", str(tmp_path), "--results", str(tmp_path)])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "random.pt"
    torch.save(randomize_(load_experiment("siamfcpp_alexnet").build_network(), seed=0).state_dict(), path)
    return str(path)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Two GOT-10k sequences of 4 frames (also an OPE data set), and the same as VOT sequences."""
    root = tmp_path_factory.mktemp("tiny")
    export_dataset("got10k", root / "got10k", TINY, num_sequences=2)
    export_dataset("vot", root / "vot", TINY, num_sequences=2)
    return root


def _mtimes(folder):
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*.txt")}


def _files(folder):
    return sorted(_mtimes(folder))


def test_exp_runs_the_tracker_into_the_got10k_layout_and_resumes(tiny, weights, tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    argv = ["got10k", "--gt", str(tiny / "got10k"), "--results", str(results), "--exp", "siamfcpp_alexnet"]
    assert main([*argv, "--weights", weights]) == 0
    folder = results / "siamfcpp_alexnet"
    names = ["synthetic-000", "synthetic-001"]
    assert _files(folder) == [p for name in names for p in (f"{name}/{name}_001.txt", f"{name}/{name}_time.txt")]
    for name in names:
        assert np.loadtxt(folder / name / f"{name}_001.txt", delimiter=",").shape == (4, 4)
    out, err = capsys.readouterr()
    expected = evaluate_got10k(tiny / "got10k", results, ["siamfcpp_alexnet"])
    assert expected.table() in out and "2 sequences tracked, 0 found complete" in err
    assert json.loads((results / "got10k_report.json").read_text()) == _json(expected)

    # Complete sequences are skipped: the tracker is not even built, no file is touched.
    before = _mtimes(folder)
    monkeypatch.setattr(Experiment, "build_tracker", lambda *a, **k: pytest.fail("tracker built"))
    assert main([*argv, "--weights", weights]) == 0
    assert _mtimes(folder) == before
    assert "0 sequences tracked, 2 found complete" in capsys.readouterr().err
    monkeypatch.undo()

    # An incomplete sequence is run again, the complete one kept.
    truncated = folder / names[1] / f"{names[1]}_001.txt"
    truncated.write_text("".join(truncated.read_text().splitlines(keepends=True)[:3]))
    assert main([*argv, "--weights", weights]) == 0
    after = _mtimes(folder)
    assert after[f"{names[1]}/{names[1]}_001.txt"] != before[f"{names[1]}/{names[1]}_001.txt"]
    assert after[f"{names[0]}/{names[0]}_001.txt"] == before[f"{names[0]}/{names[0]}_001.txt"]
    assert "1 sequences tracked, 1 found complete (synthetic-000)" in capsys.readouterr().err


def test_ctrl_c_exits_130_keeping_finished_sequences(tiny, weights, tmp_path, monkeypatch, capsys):
    track = run_tracker_module.track_sequence
    calls = []

    def interrupted_second(tracker, sequence, *rest):
        calls.append(sequence.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return track(tracker, sequence, *rest)

    monkeypatch.setattr(run_tracker_module, "track_sequence", interrupted_second)
    results = tmp_path / "results"
    argv = ["ope", "--gt", str(tiny / "got10k"), "--results", str(results), "--exp", "siamfcpp_alexnet"]
    assert main([*argv, "--weights", weights, "--name", "mine"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert _files(results / "mine") == ["synthetic-000.txt", "times/synthetic-000_time.txt"]


def test_exp_on_ope_and_vot_layouts(tiny, weights, tmp_path, capsys):
    results = tmp_path / "results"
    argv = ["ope", "--gt", str(tiny / "got10k"), "--results", str(results), "--exp", "siamfcpp_alexnet"]
    assert main([*argv, "--weights", weights, "--name", "mine"]) == 0
    assert _files(results / "mine") == [
        "synthetic-000.txt",
        "synthetic-001.txt",
        "times/synthetic-000_time.txt",
        "times/synthetic-001_time.txt",
    ]
    assert evaluate_ope(tiny / "got10k", results, ["mine"]).table() in capsys.readouterr().out
    results = tmp_path / "vot"
    argv = ["vot", "--gt", str(tiny / "vot"), "--results", str(results), "--exp", "siamfcpp_alexnet"]
    assert main([*argv, "--weights", weights, "--repetitions", "1"]) == 0
    assert _files(results / "siamfcpp_alexnet") == [
        f"baseline/{name}/{name}_001.txt" for name in ("synthetic-000", "synthetic-001")
    ]
    assert evaluate_vot(tiny / "vot", results, ["siamfcpp_alexnet"]).table() in capsys.readouterr().out


def _without_speed(tree):
    """The report with every speed left out: the only number that depends on how fast a run went."""
    if isinstance(tree, dict):
        return {k: _without_speed(v) for k, v in tree.items() if k != "speed_fps"}
    return tree


@pytest.mark.slow
def test_two_torchrun_processes_equal_one(tmp_path, weights):
    """Both runs with one thread a process (torchrun's default): the float sums then run in the same order."""
    export_dataset("got10k", tmp_path / "gt", TINY, num_sequences=4)
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = ["got10k", "--gt", str(tmp_path / "gt"), "--exp", "siamfcpp_alexnet", "--weights", weights]
    evaluate = ["-m", "videoanalyst.evaluate", *command]
    torchrun = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    one, two = (
        subprocess.run(
            [sys.executable, *launcher, *evaluate, "--results", str(tmp_path / name)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        for launcher, name in (([], "one"), (torchrun, "two"))
    )
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    report = json.loads((tmp_path / "two" / "got10k_report.json").read_text())
    assert _without_speed(report) == _without_speed(json.loads((tmp_path / "one" / "got10k_report.json").read_text()))
    assert two.stdout.count("siamfcpp_alexnet") == 1  # rank 0 alone reports
    names = [f"synthetic-{i:03d}" for i in range(4)]
    for rank, mine in ((0, names[0::2]), (1, names[1::2])):
        tracked = [line.split(": ")[1] for line in two.stderr.splitlines() if line.startswith(f"rank {rank}/2: synth")]
        assert tracked == mine
    for name in names:
        boxes = f"siamfcpp_alexnet/{name}/{name}_001.txt"
        assert (tmp_path / "two" / boxes).read_text() == (tmp_path / "one" / boxes).read_text()


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", "error: --device: 'cuda' asks for a CUDA GPU, but torch sees none on this machine; use auto or cpu\n"),
        ("bogus", "error: --device: expected a device, auto, cpu, cuda or cuda:N; got 'bogus'\n"),
    ],
)
def test_a_bad_device_is_one_line_and_writes_nothing(tiny, weights, tmp_path, monkeypatch, capsys, device, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    results = tmp_path / "results"
    argv = ["got10k", "--gt", str(tiny / "got10k"), "--results", str(results), "--exp", "siamfcpp_alexnet"]
    assert main([*argv, "--weights", weights, "--device", device]) == 2
    assert capsys.readouterr().err == message
    assert not results.exists()


def test_auto_runs_on_the_cpu(tiny, weights, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    results = tmp_path / "results"
    argv = ["ope", "--gt", str(tiny / "got10k"), "--results", str(results), "--exp", "siamfcpp_alexnet"]
    assert main([*argv, "--weights", weights, "--device", "auto"]) == 0
    assert (results / "siamfcpp_alexnet" / "synthetic-001.txt").is_file()


def test_an_unknown_tracker_lists_the_trackers_but_not_the_plots_folder(data, tmp_path, capsys):
    gt, results = _copy(data, "got10k", tmp_path)
    assert main(["got10k", "--gt", str(gt), "--results", str(results)]) == 0  # writes results/plots
    capsys.readouterr()
    assert main(["got10k", "--gt", str(gt), "--results", str(results), "--tracker", "nobody"]) == 2
    assert capsys.readouterr().err == f"error: {results}: no results of tracker 'nobody'; there are: perfect, stay\n"


def test_list_names_the_benchmarks_and_the_tracking_experiments(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(f"\n  {name} " in out for name in ("got10k", "ope", "vot", "mot", "siamfcpp_alexnet"))
    assert "_train" not in out
