"""VOT supervised evaluation: accuracy, robustness and EAO as vot-toolkit 0.9.0's ``vot/analysis/supervised.py``
computes them, on crafted result files whose numbers are worked out by hand in each test.

The same code, run on 5 trackers x 4 synthetic sequences of 420 frames (rectangle and polygon results, rectangle
and polygon ground truth, repetitions with a gap), gave the toolkit's ``vot analysis`` numbers to within 7e-8 (its
EAO curve is float32); that comparison needs the toolkit and is not part of these tests.
"""

import json
import math
import shutil

import numpy as np
import pytest

from videoanalyst.errors import InputError
from videoanalyst.evaluators.vot import (
    VOT2018_BURNIN,
    VOT2018_EAO_INTERVAL,
    eao_curve,
    eao_pieces,
    eao_score,
    evaluate_vot,
    read_vot_sequences,
    run_accuracy,
)
from videoanalyst.formats.vot_results import FAILURE, INITIALIZATION, SKIPPED, TRACKED, VotRun
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig

CONFIG = SceneConfig(width=96, height=72, num_frames=40, num_objects=2, speed=0.002, seed=1)
LOST = "0,0,0,0"  # an empty rectangle: overlap 0 with any target


def _truncate(folder, frames):
    """Keep the first `frames` frames of a VOT sequence folder (images, ground truth, tags)."""
    for image in sorted((folder / "color").iterdir())[frames:]:
        image.unlink()
    for name in ["groundtruth.txt", *(p.name for p in folder.glob("*.tag"))]:
        path = folder / name
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:frames]))


def _write_run(results, tracker, sequence, repetition, lines):
    folder = results / tracker / "baseline" / sequence
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{sequence}_{repetition:03d}.txt").write_text("".join(f"{line}\n" for line in lines))


def _crafted_a(gt):
    """40 frames, 2 failures. Burn-in keeps frames 0..9 and 20..29 out; counted: 10 (lost, 0), 11..14 (1),
    30..34 (1): accuracy 9 / 10."""
    lines = ["1"] + [LOST] * 10 + gt[11:15] + ["2", "0", "0", "0", "0", "1"] + gt[21:35] + ["2", "0", "0", "0", "0"]
    assert len(lines) == 40
    return lines


def _crafted_b(gt):
    """30 frames, 1 failure; counted: 20..29, all 1: accuracy 1."""
    return ["1"] + gt[1:5] + ["2", "0", "0", "0", "0", "1"] + gt[11:30]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """(sequences folder, results folder, names): two sequences of 40 and 30 frames; trackers ``perfect`` (the
    ground-truth polygons), ``crafted`` (the runs above), ``gappy`` (runs 001 and 003: perfect, crafted)."""
    root = tmp_path_factory.mktemp("vot")
    folders = export_dataset("vot", root / "sequences", CONFIG, num_sequences=2)
    _truncate(folders[1], 30)
    results = root / "results"
    names = [folder.name for folder in folders]
    for folder, craft in zip(folders, (_crafted_a, _crafted_b)):
        gt = (folder / "groundtruth.txt").read_text().splitlines()
        perfect = ["1"] + gt[1:]
        _write_run(results, "perfect", folder.name, 1, perfect)
        _write_run(results, "crafted", folder.name, 1, craft(gt))
        _write_run(results, "gappy", folder.name, 1, perfect)
        _write_run(results, "gappy", folder.name, 3, craft(gt))
    return root / "sequences", results, names


def test_sequences_as_the_toolkit_reads_them(dataset):
    sequences_root, _, names = dataset
    sequences = read_vot_sequences(sequences_root)
    assert [s.name for s in sequences] == names
    assert [len(s) for s in sequences] == [40, 30]
    assert sequences[0].size == (96, 72) and len(sequences[0].regions[0]) == 8
    assert set(sequences[0].tags) == {"occlusion", "camera_motion"}


def test_image_size_from_the_sequence_file(dataset, tmp_path):
    """``vot/dataset/common.py``: ``width`` and ``height`` in the ``sequence`` file win over the image's size."""
    folder = tmp_path / dataset[2][1]
    shutil.copytree(dataset[0] / dataset[2][1], folder)
    (folder / "sequence").write_text((folder / "sequence").read_text() + "width=50\nheight=40\n")
    assert read_vot_sequences(folder)[0].size == (50, 40)


def test_perfect_tracker(dataset):
    """Ground-truth polygons as results: every counted overlap is 1 on the raster, no failure; the EAO curve is 0 at
    length 0 (the initialisation frame holds no region) and 1 after."""
    sequences_root, results, names = dataset
    score = evaluate_vot(sequences_root, results, ["perfect"], eao_interval=(5, 20)).scores[0]
    assert score.accuracy == 1.0 and score.robustness == 0.0 and score.failures == 0.0
    assert score.eao_curve.tolist() == [0.0] + [1.0] * 39
    assert score.eao == 1.0
    assert {name: (s.accuracy, s.failures, s.frames, s.runs) for name, s in score.sequences.items()} == {
        names[0]: (1.0, 0.0, 40, 1),
        names[1]: (1.0, 0.0, 30, 1),
    }


def test_burn_in_and_length_weighting(dataset):
    """A = (40 * 0.9 + 30 * 1) / 70 and R = (40 * 2 + 30 * 1) / 70, weighted by frame count, not 0.95 and 1.5."""
    sequences_root, results, names = dataset
    score = evaluate_vot(sequences_root, results, ["crafted"]).scores[0]
    assert score.sequences[names[0]].accuracy == pytest.approx(0.9)
    assert score.sequences[names[1]].accuracy == 1.0
    assert [s.failures for s in score.sequences.values()] == [2.0, 1.0]
    assert score.accuracy == pytest.approx(66 / 70)
    assert score.robustness == pytest.approx(110 / 70)
    assert score.failures == 3.0


def test_repetitions_are_averaged_and_gaps_skipped(dataset):
    """Runs 001 and 003 (002 missing, as the toolkit's ``gather`` skips it): sequence A's accuracy is
    (1 + 0.9) / 2, its failures (0 + 2) / 2."""
    sequences_root, results, names = dataset
    score = evaluate_vot(sequences_root, results, ["gappy"]).scores[0]
    first = score.sequences[names[0]]
    assert (first.accuracy, first.failures, first.runs) == (pytest.approx(0.95), 1.0, 2)
    assert evaluate_vot(sequences_root, results, ["gappy"], repetitions=2).scores[0].sequences[names[0]].runs == 1


def test_eao_pieces_of_a_run():
    codes = np.array([INITIALIZATION, TRACKED, TRACKED, FAILURE] + [SKIPPED] * 4 + [INITIALIZATION, TRACKED, TRACKED])
    run = VotRun(codes, [np.zeros(0)] * len(codes))
    overlaps = np.arange(11) / 10
    pieces = eao_pieces(run, overlaps)
    assert [(p.tolist(), failed) for p, failed in pieces] == [([0.0, 0.1, 0.2], True), ([0.8, 0.9, 1.0], False)]
    ends_failed = VotRun(codes[:4], [np.zeros(0)] * 4)  # failed too close to the end to restart
    assert [(p.tolist(), failed) for p, failed in eao_pieces(ends_failed, overlaps[:4])] == [([0.0, 0.1, 0.2], True)]


def test_eao_curve_by_hand():
    """Pieces: reached the end after 5 frames (overlaps 1), failed after 3 (0.5, padded with zeros), reached the
    end after 2 (0.8). Length 0: the init frames' 0. Length 1: (1 + 0.5 + 0.8) / 3. Length 2: the 2-frame piece no
    longer counts, (1 + 0.5) / 2. Length 3: (1 + (0.5 + 0.5 + 0) / 3) / 2. Length 4: (1 + 1 / 4) / 2."""
    pieces = [
        (np.array([0, 1, 1, 1, 1.0]), False),
        (np.array([0, 0.5, 0.5]), True),
        (np.array([0, 0.8]), False),
    ]
    expected = [0, 2.3 / 3, 0.75, (1 + 1 / 3) / 2, 0.625]
    curve = eao_curve(pieces)
    np.testing.assert_allclose(curve, expected)
    # the interval's upper end past the longest piece: only the lengths that exist are averaged
    assert eao_score(curve, (2, 356)) == pytest.approx(np.mean(expected[2:]))
    assert math.isnan(eao_score(curve, VOT2018_EAO_INTERVAL))  # no length in 100..356
    assert eao_score(curve, (1, 1)) == pytest.approx(2.3 / 3)


def test_eao_of_a_failed_run_is_padded_with_zeros():
    """One piece failing after 2 frames next to one reaching 6: at length 5 the failed one still counts,
    its mean over frames 1..5 being 1 / 5."""
    curve = eao_curve([(np.array([0, 1.0]), True), (np.array([0, 1, 1, 1, 1, 1.0]), False)])
    np.testing.assert_allclose(curve, [0, 1, 0.75, (1 + 1 / 3) / 2, (1 + 1 / 4) / 2, (1 + 1 / 5) / 2])


def test_run_accuracy_burn_in():
    """Burn-in = the initialisation frame and the 9 after it (``VOT2018_BURNIN``); failed and skipped frames out."""
    codes = np.full(14, TRACKED)
    codes[0] = INITIALIZATION
    overlaps = np.r_[np.zeros(10), 0.5, 0.7, 0.9, 0.0]
    codes[13] = FAILURE
    run = VotRun(codes, [np.zeros(0)] * 14)
    assert VOT2018_BURNIN == 10
    assert run_accuracy(run, overlaps) == pytest.approx(0.7)
    assert run_accuracy(run, overlaps, burnin=11) == pytest.approx(0.8)
    assert run_accuracy(VotRun(codes[:10], []), overlaps[:10]) == 0.0  # nothing counted: 0, as the toolkit


def test_report_of_trackers_side_by_side(dataset, tmp_path):
    sequences_root, results, names = dataset
    report = evaluate_vot(sequences_root, results, eao_interval=(5, 20))
    assert [s.tracker for s in report.scores] == ["crafted", "gappy", "perfect"]
    table = report.table(per_sequence=True)
    assert "crafted A" in table and names[1] in table and "0.943" in table
    data = json.loads(json.dumps(report.to_dict()))
    assert data["trackers"]["perfect"]["eao"] == 1.0 and data["trackers"]["perfect"]["eao_interval"] == [5, 20]
    assert data["trackers"]["crafted"]["sequences"][names[0]]["failures"] == 2.0
    vot2018 = evaluate_vot(sequences_root, results, ["perfect"]).to_dict()
    assert json.loads(json.dumps(vot2018))["trackers"]["perfect"]["eao"] is None  # 40 frames: no length in 100..356
    (plot,) = report.write_plots(tmp_path / "plots")
    assert plot.name == "eao_curves.png" and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_and_malformed_runs(dataset, tmp_path):
    sequences_root, results, names = dataset
    broken = tmp_path / "results"
    shutil.copytree(results / "perfect", broken / "perfect")
    (broken / "perfect" / "baseline" / names[1] / f"{names[1]}_001.txt").unlink()
    with pytest.raises(InputError, match=f"{names[1]}_001.txt: no such VOT result file"):
        evaluate_vot(sequences_root, broken)
    _write_run(broken, "perfect", names[1], 1, ["1"] * 29)
    with pytest.raises(InputError, match="expected one line a frame \\(30 lines\\), got 29"):
        evaluate_vot(sequences_root, broken)
