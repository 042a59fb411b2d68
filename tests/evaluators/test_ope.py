"""OPE evaluation: hand-computed two-frame cases, and equality with got10k 0.1.3's `ExperimentOTB.report` (NaN
ground truth failing) and `ExperimentUAV123.report` (NaN ground truth dropped) on the same synthetic files."""

import json

import numpy as np
import pytest
from got10k.experiments import ExperimentOTB, ExperimentUAV123

from videoanalyst.errors import InputError
from videoanalyst.evaluators import evaluate_ope
from videoanalyst.evaluators.ope import ope_sequences
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig

CONFIG = SceneConfig(width=64, height=48, num_frames=20, num_objects=3, speed=0.08)
TRACKERS = ["perfect", "stay", "noisy"]


def _rows(boxes):
    return "".join(",".join(f"{v:g}" for v in b) + "\n" for b in boxes)


def _sequence(root, name, truth, results, file="groundtruth_rect.txt"):
    """A sequence folder with `truth`, and {tracker: boxes} written as ``results/TRACKER/SEQ.txt``."""
    (root / "gt" / name).mkdir(parents=True, exist_ok=True)
    (root / "gt" / name / file).write_text(_rows(truth))
    for tracker, boxes in results.items():
        (root / "res" / tracker).mkdir(parents=True, exist_ok=True)
        (root / "res" / tracker / f"{name}.txt").write_text(_rows(boxes))


def test_perfect_tracker_scores_20_of_21(tmp_path):
    """got10k ExperimentOTB: 21 thresholds including 1.0, strict '>': IoU 1 passes 20 (FACTS.md)."""
    truth = [[0, 0, 10, 10], [5, 5, 10, 10]]
    _sequence(tmp_path, "a", truth, {"t": truth})
    score = evaluate_ope(tmp_path / "gt", tmp_path / "res").scores[0].overall
    assert score.success_auc == pytest.approx(20 / 21, abs=1e-12)
    assert score.precision == score.norm_precision == score.success_rate == 1.0


def test_two_frame_hand_computed(tmp_path):
    """Frame 0 is replaced by the truth (IoU 1: 20/21). Frame 1 shifted by half a width: IoU 50 / 150 = 1/3, above
    the 7 thresholds 0 .. 0.30; centre error 5 px (within 20); normalised 5 / 10 = 0.5 (above 0.2)."""
    truth = [[0, 0, 10, 10], [0, 0, 10, 10]]
    _sequence(tmp_path, "a", truth, {"t": [[30, 30, 1, 1], [5, 0, 10, 10]]})
    score = evaluate_ope(tmp_path / "gt", tmp_path / "res").scores[0].overall
    assert score.success_auc == pytest.approx((20 / 21 + 7 / 21) / 2, abs=1e-12)
    assert score.success_rate == 0.5
    assert score.precision == 1.0
    assert score.norm_precision == 0.5
    assert score.precision_curve[4] == 0.5 and score.precision_curve[5] == 1.0  # error 5 <= 5
    assert score.frames == 2


def test_normalised_error_is_per_axis(tmp_path):
    """LaSOT: x error divided by the true width, y by the height: a 20 x 4 box shifted 2 px down errs 0.5."""
    truth = [[0, 0, 20, 4], [0, 0, 20, 4]]
    _sequence(tmp_path, "a", truth, {"t": [[0, 0, 20, 4], [0, 2, 20, 4]]})
    score = evaluate_ope(tmp_path / "gt", tmp_path / "res").scores[0].overall
    assert score.norm_precision_curve[49] == 0.5 and score.norm_precision_curve[50] == 1.0
    assert score.precision == 1.0  # 2 px


def test_sequences_weigh_the_same(tmp_path):
    """The dataset curve is the mean of the sequences' curves, not pooled over frames."""
    box = [0, 0, 10, 10]
    _sequence(tmp_path, "short", [box, box], {"t": [box, [100, 100, 10, 10]]})
    _sequence(tmp_path, "long", [box] * 4, {"t": [box] * 4})
    report = evaluate_ope(tmp_path / "gt", tmp_path / "res")
    overall, sequences = report.scores[0].overall, report.scores[0].sequences
    assert list(sequences) == ["long", "short"]
    assert sequences["short"].success_rate == 0.5 and sequences["long"].success_rate == 1.0
    assert overall.success_rate == 0.75  # pooled over the 6 frames it would be 5/6
    assert overall.frames == 6


def test_nan_rows(tmp_path):
    """A NaN result fails every threshold; a NaN truth fails too ("fail") or is left out ("drop")."""
    box, nan = [0, 0, 10, 10], [np.nan] * 4
    _sequence(tmp_path, "a", [box, box, nan, box], {"t": [box, nan, box, box]})
    fail = evaluate_ope(tmp_path / "gt", tmp_path / "res").scores[0].overall
    drop = evaluate_ope(tmp_path / "gt", tmp_path / "res", nan_gt="drop").scores[0].overall
    assert fail.success_rate == fail.precision == 0.5 and fail.frames == 4
    assert drop.success_rate == drop.precision == pytest.approx(2 / 3) and drop.frames == 3
    with pytest.raises(ValueError, match="nan_gt"):
        evaluate_ope(tmp_path / "gt", tmp_path / "res", nan_gt="skip")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """An OTB-layout copy of a synthetic GOT-10k export with three trackers' results and times; the third sequence's
    truth has NaN rows (UAV123-style absent frames)."""
    root = tmp_path_factory.mktemp("ope")
    folders = export_dataset("got10k", root / "got10k", CONFIG, num_sequences=3)
    rng = np.random.default_rng(1)
    annos = {}
    for k, folder in enumerate(folders):
        gt = np.loadtxt(folder / "groundtruth.txt", delimiter=",")
        if k == 2:
            gt[[5, 9]] = np.nan
        (root / "otb" / folder.name).mkdir(parents=True)
        np.savetxt(root / "otb" / folder.name / "groundtruth_rect.txt", gt, fmt="%.4f", delimiter=",")
        annos[folder.name] = np.loadtxt(root / "otb" / folder.name / "groundtruth_rect.txt", delimiter=",")
        first = np.nan_to_num(gt[:1])
        noisy = np.nan_to_num(gt) + rng.normal(0, 4, gt.shape)
        noisy[:, 2:] = np.abs(noisy[:, 2:])
        noisy[3, 2:] = 0  # zero size
        noisy[4] = np.nan  # no box
        results = {"perfect": np.nan_to_num(gt), "stay": np.repeat(first, len(gt), axis=0), "noisy": noisy}
        for tracker, boxes in results.items():
            (root / "results" / tracker / "times").mkdir(parents=True, exist_ok=True)
            np.savetxt(root / "results" / tracker / f"{folder.name}.txt", boxes, fmt="%.3f", delimiter=",")
            if not (tracker == "stay" and k == 1):  # one sequence without times
                times = rng.uniform(0.005, 0.02, len(gt))
                times[0] = 0
                np.savetxt(root / "results" / tracker / "times" / f"{folder.name}_time.txt", times, fmt="%.8f")
    return root, annos


class _Sequences(list):
    """What the toolkit's report reads of a dataset: (images, anno) pairs and their names."""

    def __init__(self, annos):
        super().__init__((None, anno) for anno in annos.values())
        self.seq_names = list(annos)


def _toolkit(experiment_class, root, annos, report):
    """The toolkit's performance dict, its dataset replaced by ours (its constructor would download OTB)."""
    experiment = experiment_class.__new__(experiment_class)
    experiment.dataset = _Sequences(annos)
    experiment.result_dir, experiment.report_dir = str(root / "results"), str(root / report)
    experiment.nbins_iou, experiment.nbins_ce = 21, 51
    return experiment.report(TRACKERS)


@pytest.mark.parametrize(("nan_gt", "experiment_class"), [("fail", ExperimentOTB), ("drop", ExperimentUAV123)])
def test_scores_equal_the_toolkit(dataset, nan_gt, experiment_class):
    root, annos = dataset
    expected = _toolkit(experiment_class, root, annos, f"reports-{nan_gt}")
    report = evaluate_ope(root / "otb", root / "results", TRACKERS, nan_gt=nan_gt)
    for score in report.scores:
        for ours, theirs in [
            (score.overall, expected[score.tracker]["overall"]),
            *((score.sequences[n], expected[score.tracker]["seq_wise"][n]) for n in annos),
        ]:
            assert ours.success_auc == pytest.approx(theirs["success_score"], abs=1e-12)
            assert ours.precision == pytest.approx(theirs["precision_score"], abs=1e-12)
            assert ours.success_rate == pytest.approx(theirs["success_rate"], abs=1e-12)
            assert (ours.speed_fps or -1) == pytest.approx(theirs["speed_fps"], abs=1e-12)
            np.testing.assert_allclose(ours.success_curve, theirs["success_curve"], rtol=0, atol=1e-12)
            np.testing.assert_allclose(ours.precision_curve, theirs["precision_curve"], rtol=0, atol=1e-12)
    perfect = report.scores[0]
    assert perfect.sequences[list(annos)[0]].success_auc == pytest.approx(20 / 21, abs=1e-12)


def test_report_outputs(dataset, tmp_path):
    root, _ = dataset
    report = evaluate_ope(root / "otb", root / "results")
    assert [s.tracker for s in report.scores] == sorted(TRACKERS)
    table = report.table()
    assert table.splitlines()[0].split() == ["tracker", "AUC", "Prec@20", "NPrec@0.2", "fps"]
    assert "stay" in table and "synthetic-001" not in table
    assert "synthetic-001" in report.table(per_sequence=True)
    data = json.loads(json.dumps(report.to_dict()))
    assert len(data["trackers"]["noisy"]["overall"]["norm_precision_curve"]) == 51
    assert data["trackers"]["stay"]["sequences"]["synthetic-001"]["speed_fps"] is None
    plots = report.write_plots(tmp_path / "plots")
    assert [p.name for p in plots] == ["success_plots.png", "precision_plots.png", "norm_precision_plots.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in plots)


def test_sequence_discovery(tmp_path):
    """A sequence folder itself; list.txt; sub-folders, and LaSOT's category/category-N one level down."""
    box = [[0, 0, 4, 4]]
    for name in ("cat/cat-2", "cat/cat-1", "b"):
        (tmp_path / "lasot" / name).mkdir(parents=True)
        (tmp_path / "lasot" / name / "groundtruth.txt").write_text(_rows(box))
    assert [f.name for f in ope_sequences(tmp_path / "lasot")] == ["b", "cat-1", "cat-2"]
    assert ope_sequences(tmp_path / "lasot" / "b") == [tmp_path / "lasot" / "b"]
    (tmp_path / "lasot" / "list.txt").write_text("cat/cat-2\nb\n")
    assert [f.name for f in ope_sequences(tmp_path / "lasot")] == ["cat-2", "b"]
    (tmp_path / "lasot" / "list.txt").write_text("cat/cat-3\n")
    with pytest.raises(InputError, match="list.txt: names sequences without a ground-truth file: .*cat-3"):
        ope_sequences(tmp_path / "lasot")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="empty: no sequence folders with groundtruth_rect.txt or groundtruth.txt"):
        ope_sequences(tmp_path / "empty")


def test_result_errors_name_the_file(tmp_path):
    box = [0, 0, 10, 10]
    _sequence(tmp_path, "a", [box] * 3, {"t": [box] * 2}, file="groundtruth.txt")
    with pytest.raises(InputError, match=r"a.txt: expected one x,y,w,h row a frame \(3 rows"):
        evaluate_ope(tmp_path / "gt", tmp_path / "res")
    (tmp_path / "res" / "t" / "a.txt").unlink()
    with pytest.raises(InputError, match="a.txt: no such file"):
        evaluate_ope(tmp_path / "gt", tmp_path / "res")
