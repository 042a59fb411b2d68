"""MOTChallenge evaluation: synthetic MOT17 split against motmetrics' own IoU and accumulators, hand-computed CLEAR
and identity values, TrackEval's distractor preprocessing, the report, and errors naming file and line."""

import json

import motmetrics as mm
import numpy as np
import pytest

from videoanalyst.core.detections import Detections
from videoanalyst.errors import InputError
from videoanalyst.evaluators.mot import COLUMNS, COMBINED, box_iou, evaluate_mot, match_frame
from videoanalyst.formats.mot17 import MotSeqInfo, format_mot_seqinfo
from videoanalyst.formats.mot_rows import detections_to_mot_rows, format_mot_rows, read_mot_file
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig

NUM_FRAMES = 40


def write_sequence(gt_root, name, length, gt_rows):
    """A MOT17 sequence folder with seqinfo.ini and gt/gt.txt from rows frame,id,x,y,w,h,consider,class,vis."""
    folder = gt_root / name
    (folder / "gt").mkdir(parents=True)
    info = MotSeqInfo(name, "img1", 25.0, length, 640, 480, ".jpg")
    (folder / "seqinfo.ini").write_text(format_mot_seqinfo(info))
    (folder / "gt" / "gt.txt").write_text("".join(",".join(f"{v:g}" for v in row) + "\n" for row in gt_rows))


def write_results(path, rows):
    """Result rows frame,id,x,y,w,h -> a MOTChallenge result file (conf 1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(f"{v:g}" for v in row) + ",1,-1,-1,-1\n" for row in rows))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """Two synthetic sequences and three trackers: perfect, noisy (jitter, misses, id switches), false positives."""
    root = tmp_path_factory.mktemp("mot")
    config = SceneConfig(width=64, height=48, num_frames=NUM_FRAMES, num_objects=5)
    folders = export_dataset("mot17", root / "gt", config, num_sequences=2)
    rng = np.random.default_rng(0)
    for folder in folders:
        truth = read_mot_file(folder / "gt" / "gt.txt", kind="gt")
        texts = {"perfect": "", "noisy": "", "fp": ""}
        for frame, gt in truth.items():
            texts["perfect"] += format_mot_rows(detections_to_mot_rows(frame, gt))
            size = np.tile(gt.xyxy[:, 2:] - gt.xyxy[:, :2], 2)
            kept = rng.random(len(gt)) > 0.15
            noisy = Detections(
                xyxy=(gt.xyxy + rng.normal(0, 0.06, gt.xyxy.shape) * size)[kept],
                track_ids=np.where((frame > NUM_FRAMES // 2) & (gt.track_ids % 2 == 1), 100, 0)[kept]
                + gt.track_ids[kept],
            )
            texts["noisy"] += format_mot_rows(detections_to_mot_rows(frame, noisy))
            far = Detections(xyxy=[[1000, 1000, 1010, 1020], [2000, 0, 2010, 20]], track_ids=[500, 600 + frame])
            texts["fp"] += format_mot_rows(detections_to_mot_rows(frame, Detections.concatenate([gt, far])))
        for tracker, text in texts.items():
            (root / "results" / tracker).mkdir(parents=True, exist_ok=True)
            (root / "results" / tracker / f"{folder.name}.txt").write_text(text)
    return root, evaluate_mot(root / "gt", root / "results")


def motmetrics_reference(gt_root, tracker_root, sequences):
    """motmetrics on its own IoU (``distances.boxiou``, the asfarray-free part of ``iou_matrix``) and its own
    file parsing-free path: rows read with np.loadtxt, accumulated frame by frame, summarised by ``compute_many``."""
    accumulators = []
    for name in sequences:
        gt = np.loadtxt(gt_root / name / "gt" / "gt.txt", delimiter=",", ndmin=2)
        hyp = np.loadtxt(tracker_root / f"{name}.txt", delimiter=",", ndmin=2)
        accumulator = mm.MOTAccumulator(auto_id=False)
        for frame in range(1, NUM_FRAMES + 1):
            g, h = gt[gt[:, 0] == frame], hyp[hyp[:, 0] == frame]
            distance = 1 - mm.distances.boxiou(g[:, None, 2:6], h[None, :, 2:6])
            accumulator.update(g[:, 1], h[:, 1], np.where(distance > 0.5, np.nan, distance), frameid=frame)
        accumulators.append(accumulator)
    metrics = ["mota", "motp", "idf1", "num_switches", "num_false_positives", "num_misses", "num_fragmentations"]
    return mm.metrics.create().compute_many(accumulators, metrics=metrics, names=sequences, generate_overall=True)


@pytest.mark.parametrize("tracker", ["perfect", "noisy", "fp"])
def test_clear_and_identity_equal_motmetrics_on_its_own_iou(synthetic, tracker):
    root, report = synthetic
    reference = motmetrics_reference(root / "gt", root / "results" / tracker, report.sequences)
    for name, (_, row) in zip([*report.sequences, COMBINED], reference.iterrows()):
        ours = report.results[tracker][name]
        assert ours["MOTA"] == pytest.approx(row["mota"])
        assert ours["IDF1"] == pytest.approx(row["idf1"])
        assert ours["MOTP"] == pytest.approx(1 - row["motp"])  # MOTChallenge's mean IoU, motmetrics' 1 - IoU
        for column, metric in [
            ("IDSW", "num_switches"),
            ("FP", "num_false_positives"),
            ("FN", "num_misses"),
            ("Frag", "num_fragmentations"),
        ]:
            assert ours[column] == row[metric], (name, column)


def test_perfect_tracker_scores_one_everywhere(synthetic):
    _, report = synthetic
    for name in [*report.sequences, COMBINED]:
        scores = report.results["perfect"][name]
        for column in ("HOTA", "DetA", "AssA", "MOTA", "MOTP", "IDF1", "Rcll", "Prcn", "LocA"):
            assert scores[column] == pytest.approx(1.0), (name, column)
        assert scores["FP"] == scores["FN"] == scores["IDSW"] == 0


def test_false_positives_far_from_everything_cost_detection_only(synthetic):
    _, report = synthetic
    scores = report.results["fp"][COMBINED]
    gt_dets, fp = scores["GT_Dets"], 2 * NUM_FRAMES * 2  # two far boxes a frame, two sequences
    assert scores["FP"] == fp and scores["FN"] == 0 and scores["IDSW"] == 0
    assert scores["MOTA"] == pytest.approx(1 - fp / gt_dets)
    assert scores["IDF1"] == pytest.approx(2 * gt_dets / (2 * gt_dets + fp))
    assert scores["DetA"] == pytest.approx(gt_dets / (gt_dets + fp))  # at every alpha: the matches have IoU 1
    assert scores["AssA"] == pytest.approx(1.0)
    assert scores["HOTA"] == pytest.approx(np.sqrt(gt_dets / (gt_dets + fp)))


def test_noisy_tracker_loses_on_every_axis(synthetic):
    _, report = synthetic
    noisy, perfect = report.results["noisy"][COMBINED], report.results["perfect"][COMBINED]
    assert noisy["IDSW"] > 0 and noisy["FN"] > 0
    assert noisy["HOTA"] < noisy["DetA"] < perfect["DetA"]
    assert noisy["AssA"] < 1 and noisy["LocA"] < 1


def test_hand_computed_clear_and_identity(tmp_path):
    # Objects 1 and 2 on 4 frames. Frame 2: object 2 missed, a false positive. Frame 3: object 1 changes id
    # 10 -> 11. Frame 4: object 2's box shifted 2.5 px: IoU 75 / 125 = 0.6.
    gt = [[f, o, 100 * o, 0, 10, 10, 1, 1, 1] for f in range(1, 5) for o in (1, 2)]
    write_sequence(tmp_path / "gt", "SEQ-01", 4, gt)
    results = [
        [1, 10, 100, 0, 10, 10],
        [1, 20, 200, 0, 10, 10],
        [2, 10, 100, 0, 10, 10],
        [2, 30, 500, 0, 10, 10],
        [3, 11, 100, 0, 10, 10],
        [3, 20, 200, 0, 10, 10],
        [4, 11, 100, 0, 10, 10],
        [4, 20, 202.5, 0, 10, 10],
    ]
    write_results(tmp_path / "results" / "t" / "SEQ-01.txt", results)
    scores = evaluate_mot(tmp_path / "gt", tmp_path / "results").results["t"][COMBINED]
    assert (scores["FP"], scores["FN"], scores["IDSW"], scores["Frag"]) == (1, 1, 1, 1)
    assert scores["MOTA"] == pytest.approx(1 - 3 / 8)
    assert scores["MOTP"] == pytest.approx((6 + 0.6) / 7)
    # Identity: object 1 <-> id 10 or 11 (2 frames), object 2 <-> id 20 (3 frames): IDTP 5 of 8 gt, 8 predicted.
    assert scores["IDF1"] == pytest.approx(2 * 5 / 16)
    assert scores["IDP"] == pytest.approx(5 / 8) and scores["IDR"] == pytest.approx(5 / 8)
    assert (scores["GT_IDs"], scores["GT_Dets"], scores["Dets"]) == (2, 8, 8)


def test_distractors_and_ignored_rows_are_handled_as_trackeval_does(tmp_path):
    gt = [
        [1, 1, 0, 0, 10, 20, 1, 1, 1],  # pedestrian
        [1, 2, 100, 0, 10, 20, 0, 7, 1],  # static person: a distractor
        [1, 3, 200, 0, 10, 20, 0, 9, 1],  # occluder: ignored, but not a distractor
        [1, 4, 300, 0, 10, 20, 0, 1, 1],  # pedestrian marked consider 0
        [1, 6, 400, 0, 10, 20, 1, 1, 1],  # pedestrian next to
        [1, 5, 403, 0, 10, 20, 0, 8, 1],  # a distractor
    ]
    write_sequence(tmp_path / "gt", "SEQ-01", 1, gt)
    results = [
        [1, 11, 0, 0, 10, 20],  # on the pedestrian: TP
        [1, 12, 100, 0, 10, 20],  # on the static person: removed
        [1, 13, 106, 0, 10, 20],  # IoU 0.25 with the static person: kept, FP
        [1, 14, 200, 0, 10, 20],  # on the occluder: kept, FP (TrackEval removes distractor matches only)
        [1, 15, 300, 0, 10, 20],  # on the consider-0 pedestrian: kept, FP
        [1, 16, 401, 0, 10, 20],  # IoU 0.82 with pedestrian 6, 0.67 with distractor 5
        [1, 17, 399, 0, 10, 20],  # IoU 0.82 with pedestrian 6, 0.43 with distractor 5
    ]
    # The Hungarian step matches 16 -> distractor and 17 -> pedestrian (0.67 + 0.82 beats 0.82 alone): 16 goes.
    # Unmodified TrackEval gives the same on this case: GT_Dets 2, Dets 5, FP 3, FN 0, MOTA -0.5.
    write_results(tmp_path / "results" / "t" / "SEQ-01.txt", results)
    scores = evaluate_mot(tmp_path / "gt", tmp_path / "results").results["t"][COMBINED]
    assert (scores["GT_Dets"], scores["Dets"]) == (2, 5)
    assert (scores["FP"], scores["FN"]) == (3, 0)
    assert scores["MOTA"] == pytest.approx(1 - 3 / 2)


def test_match_frame_keeps_gt_pedestrians_with_consider_set():
    gt = Detections(
        xyxy=[[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]],
        class_ids=[1, 2, 1],
        track_ids=[1, 2, 3],
        extra={"consider": np.array([1, 1, 0])},
    )
    predicted = Detections(xyxy=[[20, 0, 30, 10], [60, 0, 70, 10]], track_ids=[7, 8])
    gt_ids, tracker_ids, iou = match_frame(gt, predicted)
    assert gt_ids.tolist() == [1] and tracker_ids.tolist() == [8]
    assert iou.shape == (1, 1)


def test_box_iou_follows_trackeval_for_empty_boxes():
    iou = box_iou([[0, 0, 10, 10], [5, 5, 5, 9]], [[0, 0, 10, 10], [5, 0, 15, 10], [5, 5, 5, 9]])
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0], [0.0, 0.0, 0.0]])  # zero-area boxes: IoU 0, not NaN


def test_report_table_and_json(synthetic):
    _, report = synthetic
    table = report.table()
    header = table.splitlines()[0].split()
    assert header == [COMBINED, "fp", "noisy", "perfect"]  # trackers side by side, sorted
    assert [line.split()[0] for line in table.splitlines()[1:]] == list(COLUMNS)
    assert table.splitlines()[1].split()[-1] == "100.00"  # perfect HOTA, in percent
    per_sequence = report.table(per_sequence=True)
    assert [line.split()[0] for line in per_sequence.splitlines() if line and line.split()[0] not in COLUMNS] == [
        *report.sequences,
        COMBINED,
    ]
    data = json.loads(json.dumps(report.to_dict()))
    assert data["sequences"] == report.sequences
    assert data["trackers"]["perfect"][COMBINED]["HOTA"] == pytest.approx(1.0)
    assert set(data["trackers"]["noisy"]) == {*report.sequences, COMBINED}


def test_chosen_trackers_and_single_sequence_folder(synthetic):
    root, report = synthetic
    sequence = report.sequences[0]
    chosen = evaluate_mot(root / "gt" / sequence, root / "results", trackers=["noisy"])
    assert list(chosen.results) == ["noisy"] and chosen.sequences == [sequence]
    assert chosen.results["noisy"][sequence] == report.results["noisy"][sequence]


@pytest.fixture
def one_sequence(tmp_path):
    write_sequence(tmp_path / "gt", "SEQ-01", 3, [[f, 1, 0, 0, 10, 10, 1, 1, 1] for f in (1, 2, 3)])
    return tmp_path


@pytest.mark.parametrize(
    "lines, line_number, message",
    [
        (["1,1,0,0,10"], 2, "expected 7 to 10 comma-separated columns"),
        (["2,1,0,nan,10,10,1,-1,-1,-1"], 2, "NaN"),
        (["2,1,0,0,-10,10,1,-1,-1,-1"], 2, "non-negative width"),
        (["0,1,0,0,10,10,1,-1,-1,-1"], 2, "frame >= 1"),
        (["2,2,0,0,10,10,1,-1,-1,-1", "4,1,0,0,10,10,1,-1,-1,-1"], 3, "frame 4 is past the sequence's 3 frames"),
        (["2,1,0,0,inf,10,1,-1,-1,-1"], 2, "infinite box value"),
        (["2,1,0,0,10,10,1,-1,-1,-1", "2,7,0,0,10,10,1,-1,-1,-1", "2,1,5,5,10,10,1,-1,-1,-1"], 4, "id 1 appears twice"),
    ],
)
def test_bad_result_files_name_file_and_line(one_sequence, lines, line_number, message):
    path = one_sequence / "results" / "t" / "SEQ-01.txt"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(["1,1,0,0,10,10,1,-1,-1,-1", *lines]) + "\n")
    with pytest.raises(InputError, match=message) as error:
        evaluate_mot(one_sequence / "gt", one_sequence / "results")
    assert str(error.value).startswith(f"{path}:{line_number}:")


def test_unknown_gt_class_names_its_line(tmp_path):
    write_sequence(tmp_path / "gt", "SEQ-01", 2, [[1, 1, 0, 0, 10, 10, 1, 1, 1], [2, 1, 0, 0, 10, 10, 1, 14, 1]])
    write_results(tmp_path / "results" / "t" / "SEQ-01.txt", [[1, 1, 0, 0, 10, 10]])
    with pytest.raises(InputError, match=r"gt\.txt:2: class 14 is not a MOTChallenge class"):
        evaluate_mot(tmp_path / "gt", tmp_path / "results")


def test_missing_inputs_are_named(one_sequence):
    results = one_sequence / "results"
    (results / "t").mkdir(parents=True)
    with pytest.raises(InputError, match=r"SEQ-01\.txt: no result file of tracker 't' for sequence SEQ-01"):
        evaluate_mot(one_sequence / "gt", results)
    with pytest.raises(InputError, match="no such tracker folder"):
        evaluate_mot(one_sequence / "gt", results, trackers=["absent"])
    with pytest.raises(InputError, match="no MOT17 sequence folders"):
        evaluate_mot(results, results)


def test_an_empty_result_file_misses_everything(one_sequence):
    path = one_sequence / "results" / "t" / "SEQ-01.txt"
    path.parent.mkdir(parents=True)
    path.write_text("")
    scores = evaluate_mot(one_sequence / "gt", one_sequence / "results").results["t"][COMBINED]
    assert (scores["FN"], scores["FP"], scores["HOTA"], scores["MOTA"]) == (3, 0, 0.0, 0.0)
