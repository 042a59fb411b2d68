"""GOT-10k evaluation equals got10k 0.1.3's `ExperimentGOT10k.report` on the same files, and refuses what it cannot
score. Expected numbers come from running that toolkit here, on a tiny synthetic validation split."""

import json
import shutil

import numpy as np
import pytest
from got10k.experiments import ExperimentGOT10k

from videoanalyst.errors import InputError
from videoanalyst.evaluators import evaluate_got10k
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig

CONFIG = SceneConfig(width=64, height=48, num_frames=20, num_objects=3, speed=0.08)
TRACKERS = ["perfect", "stay", "noisy", "untimed"]
HIDDEN = (4, 5, 11)  # frames of the first sequence given cover 0, so the toolkit skips them


def _write(path, rows, fmt="%.3f"):
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, rows, fmt=fmt, delimiter=",")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """(GOT-10k root with val/, results folder ``GOT-10k`` as the toolkit lays it out, sequence names)."""
    root = tmp_path_factory.mktemp("got10k")
    folders = export_dataset("got10k", root / "val", CONFIG, num_sequences=3)
    cover = np.loadtxt(folders[0] / "cover.label").astype(int)
    cover[list(HIDDEN)] = 0
    (folders[0] / "cover.label").write_text("".join(f"{c}\n" for c in cover))
    results = root / "results" / "GOT-10k"
    rng = np.random.default_rng(0)
    for folder in folders:
        name = folder.name
        gt = np.loadtxt(folder / "groundtruth.txt", delimiter=",")
        n = len(gt)
        (results / "perfect" / name).mkdir(parents=True)
        shutil.copy(folder / "groundtruth.txt", results / "perfect" / name / f"{name}_001.txt")
        _write(results / "stay" / name / f"{name}_001.txt", np.repeat(gt[:1], n, axis=0))
        for tracker in ("perfect", "stay"):
            _write(results / tracker / name / f"{name}_time.txt", rng.uniform(0.005, 0.02, (n, 1)), "%.8f")
        for run in range(1, 4):
            noisy = gt + rng.normal(0, 3, gt.shape)
            noisy[:, 2:] = np.abs(noisy[:, 2:])
            noisy[2] = [-10, -5, 30, 20]  # past the top-left corner: clipped by shifting
            noisy[3] = [50, 40, 30, 30]  # past the bottom-right corner: clipped by cutting
            noisy[6, 2:] = 0  # zero size
            noisy[0] = np.nan  # frame 0 is never scored
            if name == folders[0].name:
                noisy[HIDDEN[0]] = np.nan  # nor are frames with cover 0
            for tracker in ("noisy", "untimed"):
                _write(results / tracker / name / f"{name}_{run:03d}.txt", noisy)
        times = rng.uniform(0.005, 0.02, (n, 3))
        times[-2:, 2] = np.nan  # a shorter third run, padded
        times[1, 0] = 0.0  # not a time: left out
        _write(results / "noisy" / name / f"{name}_time.txt", times, "%.8f")
        if name != folders[-1].name:  # the toolkit needs the first sequence's time file; the last one has none
            _write(results / "untimed" / name / f"{name}_time.txt", times, "%.8f")
    return root, results, [f.name for f in folders]


@pytest.fixture(scope="module")
def toolkit(dataset):
    """The toolkit's performance dict."""
    root, results, _ = dataset
    experiment = ExperimentGOT10k(
        str(root), subset="val", result_dir=str(results.parent), report_dir=str(root / "reports")
    )
    return experiment.report(TRACKERS)


def test_scores_equal_the_toolkit(dataset, toolkit):
    root, results, names = dataset
    report = evaluate_got10k(root / "val", results, TRACKERS)
    assert [s.tracker for s in report.scores] == TRACKERS
    for score in report.scores:
        expected = toolkit[score.tracker]["overall"]
        assert score.ao == pytest.approx(expected["ao"], abs=1e-12)
        assert score.sr50 == pytest.approx(expected["sr"], abs=1e-12)
        assert score.sr75 == pytest.approx(expected["succ_curve"][75], abs=1e-12)
        assert score.speed_fps == pytest.approx(expected["speed_fps"], abs=1e-12)
        np.testing.assert_allclose(score.success_curve, expected["succ_curve"], rtol=0, atol=1e-12)
        for name in names:
            seq, expected_seq = score.sequences[name], toolkit[score.tracker]["seq_wise"][name]
            assert seq.ao == pytest.approx(expected_seq["ao"], abs=1e-12)
            assert seq.sr50 == pytest.approx(expected_seq["sr"], abs=1e-12)
            assert seq.length == expected_seq["length"] == CONFIG.num_frames - 1
            if not (score.tracker == "untimed" and name == names[-1]):  # the toolkit reuses the previous sequence's
                assert seq.speed_fps == pytest.approx(expected_seq["speed_fps"], abs=1e-12)
    by_name = {s.tracker: s for s in report.scores}
    assert by_name["perfect"].ao == pytest.approx(1, abs=1e-12) and by_name["perfect"].sr75 == 1.0
    assert by_name["noisy"].sequences[names[0]].runs == 3
    assert by_name["untimed"].sequences[names[-1]].speed_fps is None
    assert 0 < by_name["stay"].ao < by_name["noisy"].ao < 1


def test_hand_computed_sequence(tmp_path):
    """Frame 0 and cover-0 frames skipped; boxes bounded by the image the toolkit's way (x clipped first, a box past
    the left edge shifted, not cut); AO over the counted frames; speed the mean of 1 / t over positive times."""
    folder = tmp_path / "val" / "seq"
    folder.mkdir(parents=True)
    truth = [[0, 0, 10, 10], [10, 10, 20, 20], [10, 10, 20, 20], [90, 0, 20, 10], [-5, 0, 10, 10]]
    boxes = [[50, 50, 5, 5], [20, 10, 20, 20], [70, 70, 5, 5], [90, 0, 10, 10], [0, 0, 10, 10]]
    (folder / "groundtruth.txt").write_text("".join(",".join(map(str, b)) + "\n" for b in truth))
    (folder / "cover.label").write_text("8\n8\n0\n5\n5\n")
    (folder / "meta_info.ini").write_text("[METAINFO]\nresolution: (100, 100)\n")
    results = tmp_path / "results" / "hand" / "seq"
    results.mkdir(parents=True)
    (results / "seq_001.txt").write_text("".join(",".join(map(str, b)) + "\n" for b in boxes))
    (results / "seq_time.txt").write_text("0.1\n0.2\n0\nnan\n0.5\n")
    score = evaluate_got10k(tmp_path / "val", tmp_path / "results").scores[0]
    assert score.ao == pytest.approx((1 / 3 + 1 + 1) / 3, abs=1e-12)  # IoUs 1/3 (half-shifted), 1 (cut), 1 (shifted)
    assert score.sr50 == score.sr75 == pytest.approx(2 / 3)
    assert score.speed_fps == pytest.approx((10 + 5 + 2) / 3)
    assert score.sequences["seq"].length == 4


def test_report_outputs(dataset, tmp_path):
    root, results, names = dataset
    report = evaluate_got10k(root / "val", results, ["perfect", "noisy"])
    table = report.table()
    assert table.splitlines()[0].split() == ["tracker", "AO", "SR.50", "SR.75", "fps"]
    assert "perfect  1.000  1.000  1.000" in table
    wide = report.table(per_sequence=True)
    assert all(name in wide for name in names) and "noisy SR.75" in wide
    data = json.loads(json.dumps(report.to_dict()))
    assert data["trackers"]["perfect"]["ao"] == pytest.approx(1, abs=1e-12)
    assert data["trackers"]["noisy"]["sequences"][names[1]]["runs"] == 3
    assert len(data["trackers"]["noisy"]["success_curve"]) == 101
    (plot,) = report.write_plots(tmp_path / "plots")
    assert plot.name == "success_plot.png" and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_all_trackers_by_default(dataset):
    root, results, _ = dataset
    assert [s.tracker for s in evaluate_got10k(root / "val", results).scores] == sorted(TRACKERS)


def test_nan_box_on_a_counted_frame_is_refused(dataset, tmp_path):
    root, results, names = dataset
    copy = tmp_path / "results"
    shutil.copytree(results / "perfect", copy / "perfect")
    path = copy / "perfect" / names[1] / f"{names[1]}_001.txt"
    lines = path.read_text().splitlines()
    lines[7] = "nan,nan,nan,nan"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        InputError, match=rf"{names[1]}_001.txt:8: no box \(NaN\) on a frame where the target is visible"
    ):
        evaluate_got10k(root / "val", copy)


def test_test_split_points_to_the_server(dataset, tmp_path):
    root, results, names = dataset
    folder = tmp_path / "test" / names[0]
    shutil.copytree(root / "val" / names[0], folder)
    for label in folder.glob("*.label"):
        label.unlink()
    gt = folder / "groundtruth.txt"
    gt.write_text(gt.read_text().splitlines()[0] + "\n")
    with pytest.raises(InputError, match="test split.*official server"):
        evaluate_got10k(tmp_path / "test", results, ["perfect"])


def test_missing_sequence_results_name_the_folder(dataset, tmp_path):
    root, results, names = dataset
    copy = tmp_path / "results"
    shutil.copytree(results / "stay", copy / "stay")
    shutil.rmtree(copy / "stay" / names[2])
    with pytest.raises(InputError, match=f"{names[2]}: no results of sequence"):
        evaluate_got10k(root / "val", copy)
    with pytest.raises(InputError, match="no results of tracker 'nobody'"):
        evaluate_got10k(root / "val", copy, ["nobody"])
