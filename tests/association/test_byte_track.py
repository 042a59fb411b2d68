"""ByteTrack equals the original (ifzhang/ByteTrack d1bf019) on recorded synthetic streams, and behaves as it does
in crafted cases: low-score boxes carry a track, lost tracks expire after the buffer, duplicates are merged."""

import json
from pathlib import Path

import numpy as np
import pytest

from videoanalyst.association.associator import associate
from videoanalyst.association.byte_track import ByteTrack
from videoanalyst.association.kalman_xyah import xyah_to_xyxy
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.errors import ConfigError
from videoanalyst.evaluators.mot import clear_identity_metrics, match_sequence

DATA = Path(__file__).parent / "data"
CASES = json.loads((DATA / "byte_track_cases.json").read_text())
WIDTH, HEIGHT = CASES["image_size"]


def _read(kind: str) -> dict[str, dict[int, np.ndarray]]:
    """byte_track_<kind>.csv -> {case: {frame: rows without the case and frame columns}}."""
    table = np.genfromtxt(DATA / f"byte_track_{kind}.csv", delimiter=",", names=True, dtype=None, encoding="utf-8")
    columns = table.dtype.names[2:]
    values = np.stack([table[c].astype(np.float64) for c in columns], axis=1)
    grouped: dict[str, dict[int, np.ndarray]] = {}
    for name in np.unique(table["case"]):
        rows = table["case"] == name
        grouped[str(name)] = {int(f): values[rows & (table["frame"] == f)] for f in np.unique(table["frame"][rows])}
    return grouped


def _run(stage: ByteTrack, frames: list, states: list | None = None) -> list[Detections]:
    """Feed `frames` (Detections, or None for a frame the detector skipped) through the stage; what it reports.

    With `states`, also collect the float64 boxes behind each report (the tracked, confirmed tracks' means).
    """
    reports = []
    for report in associate(stage, frames, WIDTH, HEIGHT):
        reports.append(report)
        if states is not None:
            tracks = stage._tracks
            states.append(xyah_to_xyxy(tracks.mean[tracks.confirmed & ~tracks.lost]))
    return reports


def _fixture_case(name: str) -> tuple[dict, list[Detections]]:
    settings = CASES["cases"][name]
    rows = _read("detections")[name]
    frames = [Detections(rows[f][:, :4], scores=rows[f][:, 4], class_ids=np.ones(len(rows[f])))
              if f in rows else Detections.empty() for f in range(1, settings["num_frames"] + 1)]
    return settings, frames


def _stage(settings: dict) -> ByteTrack:
    return ByteTrack(track_buffer=settings["track_buffer"], fuse_score=settings["fuse_score"])


def _frames(*boxes_and_scores) -> list:
    """One frame per argument: None (detector skipped), [] (nothing seen), or [(box, score), ...]."""
    return [None if frame is None else Detections(np.reshape([b for b, _ in frame], (-1, 4)),
                                                  scores=[s for _, s in frame]) for frame in boxes_and_scores]


def _ids(reports: list[Detections]) -> list[list[int]]:
    return [r.track_ids.tolist() for r in reports]


@pytest.mark.parametrize("name", list(CASES["cases"]))
def test_same_ids_boxes_and_scores_as_the_original(name):
    """Frame by frame, the ids (in the original's order), boxes and scores of the original `BYTETracker.update`,
    recorded on synthetic streams (scores over 0.1 .. 1, occlusions, duplicate boxes, empty frames) by

        PYTHONPATH=. python evaluation/reference/ifzhang_bytetrack.py --reference /tmp/ref/ByteTrack \\
            --deps /tmp/refdeps_bytetrack fixture --out tests/association/data

    (ByteTrack checkout at d1bf019, cython_bbox from ``pip install --target /tmp/refdeps_bytetrack cython_bbox``).
    The float64 state behind each reported box is within 1e-6 px of the original's box (recorded to 1e-8 px), and
    the reported float32 box is that value rounded (within one float32 spacing).
    """
    settings, frames = _fixture_case(name)
    expected = _read("tracks")[name]
    states: list[np.ndarray] = []
    reports = _run(_stage(settings), frames, states)
    assert sum(map(len, reports)) > 2 * settings["num_frames"]
    for frame, (report, state) in enumerate(zip(reports, states), 1):
        rows = expected.get(frame, np.zeros((0, 6)))
        assert report.track_ids.tolist() == rows[:, 0].astype(int).tolist(), f"frame {frame}"
        np.testing.assert_allclose(state, rows[:, 1:5].reshape(-1, 4), rtol=0, atol=1e-6, err_msg=f"frame {frame}")
        spacing = np.spacing(np.abs(rows[:, 1:5]).astype(np.float32))
        assert (np.abs(report.xyxy - rows[:, 1:5]) <= spacing).all(), f"frame {frame}"
        np.testing.assert_array_equal(report.scores, rows[:, 5].astype(np.float32))


def test_mota_and_idf1_equal_the_originals():
    """MOTA / IDF1 on the recorded "default" stream equal those the driver measured for the original."""
    settings, frames = _fixture_case("default")
    truth_rows = _read("truth")["default"]
    truth = [Detections(truth_rows[f][:, 1:], track_ids=truth_rows[f][:, 0], class_ids=np.ones(len(truth_rows[f])),
                        extra={"consider": np.ones(len(truth_rows[f]), np.int64)})
             for f in range(1, settings["num_frames"] + 1)]
    metrics = clear_identity_metrics({"default": match_sequence(truth, _run(_stage(settings), frames))})["default"]
    assert metrics["MOTA"] == pytest.approx(settings["reference_MOTA"], abs=1e-12)
    assert metrics["IDF1"] == pytest.approx(settings["reference_IDF1"], abs=1e-12)
    assert metrics["MOTA"] > 0.5


@pytest.mark.parametrize("low_threshold, ids_while_occluded", [(0.1, [[1], [1], [1]]), (0.5, [[], [], []])])
def test_low_score_boxes_carry_a_track_the_high_score_pass_would_lose(low_threshold, ids_while_occluded):
    """An object scoring 0.3 for three frames (occluded) keeps being reported under its id by the second
    association; without it (low_threshold = track_threshold) the track is lost for those frames."""
    step = np.array([4.0, 0.0, 4.0, 0.0])
    box = lambda k: np.array([100.0, 100.0, 140.0, 200.0]) + k * step  # noqa: E731
    scores = [0.9] * 5 + [0.3] * 3 + [0.9] * 2
    reports = _run(ByteTrack(low_threshold=low_threshold), _frames(*[[(box(k), s)] for k, s in enumerate(scores)]))
    assert _ids(reports[5:8]) == ids_while_occluded
    assert _ids(reports[:5]) == [[1]] * 5 and _ids(reports[8:]) == [[1]] * 2
    if low_threshold == 0.1:
        np.testing.assert_allclose(reports[7].xyxy[0], box(7), atol=2.0)


def test_iou_counts_inclusive_pixels():
    """As the original's cython_bbox: a 4 x 4 px box and one 1.5 px lower overlap by IoU 0.54 (widths x2 - x1 + 1),
    enough for the second association (IoU >= 0.5); exact areas would give 0.45 and lose the track."""
    small = np.array([20.0, 20.0, 24.0, 24.0])
    reports = _run(ByteTrack(), _frames(*[[(small, 0.9)]] * 3, [(small + [0, 1.5, 0, 1.5], 0.3)]))
    assert _ids(reports) == [[1]] * 4


@pytest.mark.parametrize("back_on, same_id", [(9, True), (10, True), (11, False)])
def test_lost_track_expires_after_the_buffer(back_on, same_id):
    """Seen on frames 1-3, then nothing: with a buffer of 5 frames the track is past it on frame 9 (9 - 3 > 5) and
    gone from frame 11; on frame 10 the original still finds it (its expired tracks linger one frame)."""
    box = [(np.array([50.0, 60.0, 90.0, 140.0]), 0.9)]
    frames = _frames(*[box if k in (1, 2, 3, back_on, back_on + 1) else [] for k in range(1, back_on + 2)])
    reports = _run(ByteTrack(track_buffer=5), frames)
    assert _ids(reports[:3]) == [[1]] * 3 and not any(_ids(reports[3:back_on - 1]))
    assert _ids(reports[back_on - 1:]) == ([[1], [1]] if same_id else [[], [2]])


def test_a_track_found_again_after_expiring_ends_when_lost_again():
    """The original's bookkeeping: a track found on its lingering frame keeps no buffer: lost once more, it is
    gone, and the object gets a new id (reported from its second frame); a track found within its buffer keeps it."""
    box = [(np.array([50.0, 60.0, 90.0, 140.0]), 0.9)]
    for found_on, expected in ((10, [[1], [], [], [2]]), (8, [[1], [], [1], [1]])):
        frames = _frames(*[box if k in (1, 2, 3, found_on, found_on + 2, found_on + 3) else []
                           for k in range(1, found_on + 4)])
        reports = _run(ByteTrack(track_buffer=5), frames)
        assert _ids(reports[found_on - 1:]) == expected, found_on


def test_duplicate_tracks_keep_the_older():
    """A track started on a duplicate box of an object takes over its detection from the older track, which is
    lost; the two overlap (IoU > 0.85): the younger, tracked one is dropped and the older found again."""
    first = np.array([100.0, 100.0, 160.0, 220.0])
    copy = first + [0.0, 0.0, 4.0, 4.0]
    frames = _frames([(first, 0.9)], [(first, 0.9)], [(first, 0.9), (copy, 0.95)], [(first, 0.9), (copy, 0.95)],
                     [(copy, 0.95)], [(copy, 0.95)])
    reports = _run(ByteTrack(), frames)
    assert _ids(reports) == [[1], [1], [1], [1, 2], [], [1]]


def test_tracks_confirm_on_a_later_frame_unless_on_the_first_and_empty_frames_age_them():
    """Only tracks started on the stream's first detector frame are reported at once; an empty first frame makes
    every track wait for a second match. Empty frames report nothing and make tracks lost."""
    box = [(np.array([10.0, 10.0, 50.0, 90.0]), 0.8)]
    assert _ids(_run(ByteTrack(), _frames(box, box, [], box))) == [[1], [1], [], [1]]
    assert _ids(_run(ByteTrack(), _frames([], box, box, [], [], box))) == [[], [], [1], [], [], [1]]
    assert _ids(_run(ByteTrack(), _frames([], [], []))) == [[], [], []]
    weak = [(np.array([10.0, 10.0, 50.0, 90.0]), 0.55)]  # above track_threshold, below new_track_threshold
    assert _ids(_run(ByteTrack(), _frames(weak, weak, weak))) == [[], [], []]


def test_predict_moves_tracks_on_and_counts_no_miss():
    """Frames the detector skipped report the tracked tracks' predicted boxes, moving with their velocity; a
    hundred of them (more than the buffer) do not end a track."""
    step = np.array([5.0, 2.0, 5.0, 2.0])
    box = lambda k: np.array([100.0, 100.0, 150.0, 200.0]) + k * step  # noqa: E731
    seen = [[(box(k), 0.9)] for k in range(10)]
    reports = _run(ByteTrack(track_buffer=5), _frames(*seen, None, None, [(box(12), 0.9)]))
    assert _ids(reports) == [[1]] * 13
    np.testing.assert_allclose(reports[11].xyxy[0] - reports[10].xyxy[0], step, atol=0.5)
    np.testing.assert_allclose(reports[11].xyxy[0], box(11), atol=2.0)
    still = [(box(0), 0.9)]
    reports = _run(ByteTrack(track_buffer=5), _frames(still, still, *[None] * 100, still))
    assert _ids(reports) == [[1]] * 103
    np.testing.assert_allclose(reports[-2].xyxy[0], box(0), atol=1e-3)


def test_state_stays_bounded_over_a_long_stream():
    """Random boxes for 2000 frames: tracks come and go, and the live tracks never exceed those the buffer holds."""
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(2000):
        corners = rng.uniform(0, [WIDTH - 60, HEIGHT - 60], (6, 2))
        frames.append(Detections(np.concatenate([corners, corners + 50], axis=1), scores=rng.uniform(0.1, 1, 6)))
    stage = ByteTrack(track_buffer=30)
    sizes: list[int] = []
    stage.reset(StreamInfo("long", WIDTH, HEIGHT))
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for index, detections in enumerate(frames):
        packet = FramePacket("long", index, index / 30, image)
        packet.outputs[DETECTIONS] = detections
        stage.process(packet)
        sizes.append(len(stage._tracks))
    assert max(sizes) <= 6 * (stage.max_frames_lost + 3)
    assert np.mean(sizes[1000:]) == pytest.approx(np.mean(sizes[500:1000]), rel=0.2)
    assert stage._next_id > 1000  # tracks were started all along


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="low_threshold"):
        ByteTrack(low_threshold=0.6, track_threshold=0.5)
    with pytest.raises(ConfigError, match="track_buffer"):
        ByteTrack(track_buffer=-1)
