"""The supervised protocol runner: failures, skipped frames and re-initialisations as vot-toolkit 0.9.0's
``SupervisedExperiment.execute`` (``vot/experiment/multirun.py``) writes them, the time files, resuming, and the
early stop after 3 identical runs. (Driven through the toolkit's own ``execute`` with the same deterministic
trackers on 4 synthetic sequences of 420 frames, it wrote the same codes and float32 regions; that comparison needs
the toolkit and is not part of these tests.)
"""

import shutil

import numpy as np
import pytest

from videoanalyst.errors import InputError
from videoanalyst.evaluators.vot import evaluate_vot, read_vot_sequences
from videoanalyst.evaluators.vot_overlap import region_overlaps
from videoanalyst.evaluators.vot_protocol import SingleObjectTracker, run_vot_supervised
from videoanalyst.formats.vot_results import read_vot_run
from videoanalyst.sources.image_sequences import read_image
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig

CONFIG = SceneConfig(width=96, height=72, num_frames=40, num_objects=2, speed=0.002, seed=1)
FAR = np.array([500.0, 500.0, 10.0, 10.0])


def _bounding_box(region):
    if len(region) == 4:
        return np.asarray(region)
    corners = np.asarray(region).reshape(-1, 2)
    return np.r_[corners.min(axis=0), corners.max(axis=0) - corners.min(axis=0)]


class Scripted:
    """Finds each frame by its pixels and returns the ground truth's bounding box, or a box far away on the frames
    in `lose` ({sequence: frames}); records every call."""

    def __init__(self, sequences, lose=None, crash_at=None):
        self.where = {read_image(p).tobytes(): (s, i) for s in sequences for i, p in enumerate(s.images)}
        self.lose = lose or {}
        self.crash_at = crash_at
        self.calls = []

    def initialize(self, image, box_xywh):
        sequence, frame = self.where[image.tobytes()]
        self.calls.append(("initialize", sequence.name, frame, np.asarray(box_xywh)))

    def track(self, image):
        sequence, frame = self.where[image.tobytes()]
        if (sequence.name, frame) == self.crash_at:
            raise RuntimeError("tracker crashed")
        self.calls.append(("track", sequence.name, frame))
        return FAR if frame in self.lose.get(sequence.name, ()) else _bounding_box(sequence.regions[frame])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """(sequences folder, sequences): two sequences of 40 frames whose target stays in view."""
    root = tmp_path_factory.mktemp("vot") / "sequences"
    export_dataset("vot", root, CONFIG, num_sequences=2)
    sequences = read_vot_sequences(root)
    for s in sequences:
        boxes = [_bounding_box(r) for r in s.regions]
        assert (region_overlaps(boxes, s.regions, s.size) > 0).all()
    return root, sequences


def _codes(path, frames):
    return read_vot_run(path, frames).codes.tolist()


def test_failures_skips_and_reinitialisations(dataset, tmp_path):
    """Lost on frame 5: ``2``, frames 6..9 ``0``, re-initialised on 10 (5 after the failure); lost on 12: restart on
    17. Lost on frame 37 of the other sequence: 38 and 39 skipped, no restart left."""
    root, sequences = dataset
    first, second = (s.name for s in sequences)
    tracker = Scripted(sequences, lose={first: {5, 12}, second: {37}})
    paths = run_vot_supervised(tracker, "scripted", root, tmp_path)
    assert paths == [tmp_path / "scripted" / "baseline" / name / f"{name}_001.txt" for name in (first, second)]
    expected = [1] + [-1] * 4 + [2, 0, 0, 0, 0, 1, -1, 2, 0, 0, 0, 0, 1] + [-1] * 22
    assert _codes(paths[0], 40) == expected
    assert _codes(paths[1], 40) == [1] + [-1] * 36 + [2, 0, 0]
    initialised = [(call[1], call[2]) for call in tracker.calls if call[0] == "initialize"]
    assert initialised == [(first, 0), (first, 10), (first, 17), (second, 0)]
    for call in tracker.calls[:3]:
        if call[0] == "initialize":  # the ground truth's bounding rectangle, as the toolkit converts polygons
            np.testing.assert_allclose(call[3], _bounding_box(sequences[0].regions[call[2]]), rtol=1e-6)
    tracked = {call[2] for call in tracker.calls if call[0] == "track" and call[1] == first}
    assert tracked.isdisjoint({6, 7, 8, 9, 13, 14, 15, 16})  # skipped frames are never shown to the tracker
    times = (paths[0].parent / f"{first}_001_time.value").read_text().splitlines()
    assert len(times) == 40 and all(times[i] == "" for i in (6, 7, 8, 9)) and float(times[0]) >= 0
    report = evaluate_vot(root, tmp_path).scores[0]
    assert [s.failures for s in report.sequences.values()] == [2.0, 1.0]


def test_written_boxes_read_back_as_float32(dataset, tmp_path):
    root, sequences = dataset
    run_vot_supervised(Scripted(sequences), "oracle", root, tmp_path, sequences=[sequences[0].name])
    run = read_vot_run(tmp_path / "oracle" / "baseline" / sequences[0].name / f"{sequences[0].name}_001.txt", 40)
    written = np.stack(run.regions[1:]).astype(np.float32)
    expected = np.stack([_bounding_box(r) for r in sequences[0].regions[1:]]).astype(np.float32)
    np.testing.assert_array_equal(written, expected)


def test_perfect_tracker(dataset, tmp_path):
    """With rectangle ground truth the ground-truth box is the same raster: A = 1, no failure. (With polygon
    ground truth it is one pixel short each way, as in the toolkit, so A < 1, still without failures.)"""
    root, sequences = dataset
    rectangles = tmp_path / "sequences"
    shutil.copytree(root, rectangles)
    for s in sequences:
        rows = [_bounding_box(r) for r in s.regions]
        (rectangles / s.name / "groundtruth.txt").write_text("".join(",".join(map(str, r)) + "\n" for r in rows))
    run_vot_supervised(Scripted(read_vot_sequences(rectangles)), "oracle", rectangles, tmp_path / "r1")
    score = evaluate_vot(rectangles, tmp_path / "r1").scores[0]
    assert (score.accuracy, score.robustness, score.failures) == (1.0, 0.0, 0.0)
    run_vot_supervised(Scripted(sequences), "oracle", root, tmp_path / "r2")
    score = evaluate_vot(root, tmp_path / "r2").scores[0]
    assert score.failures == 0.0 and 0.8 < score.accuracy < 1.0


def test_resumes_and_loses_at_most_the_sequence_in_progress(dataset, tmp_path):
    root, sequences = dataset
    first, second = (s.name for s in sequences)
    crashing = Scripted(sequences, crash_at=(second, 20))
    with pytest.raises(RuntimeError, match="tracker crashed"):
        run_vot_supervised(crashing, "t", root, tmp_path)
    done = tmp_path / "t" / "baseline"
    assert (done / first / f"{first}_001.txt").is_file()
    assert not (done / second).exists() or not list((done / second).iterdir())
    resumed = Scripted(sequences)
    run_vot_supervised(resumed, "t", root, tmp_path)
    assert {call[1] for call in resumed.calls} == {second}
    stamp = (done / first / f"{first}_001.txt").stat().st_mtime_ns
    idle = Scripted(sequences)
    run_vot_supervised(idle, "t", root, tmp_path)
    assert idle.calls == [] and (done / first / f"{first}_001.txt").stat().st_mtime_ns == stamp
    (done / first / f"{first}_001.txt").write_text("1\n")  # incomplete: run again
    again = Scripted(sequences)
    run_vot_supervised(again, "t", root, tmp_path)
    assert {call[1] for call in again.calls} == {first} and len(_codes(done / first / f"{first}_001.txt", 40)) == 40
    assert not list(done.rglob("*.tmp"))


def test_repetitions_stop_after_three_identical_runs(dataset, tmp_path):
    root, sequences = dataset
    name = sequences[0].name
    paths = run_vot_supervised(Scripted(sequences), "det", root, tmp_path, sequences=[name], repetitions=5)
    assert [p.name for p in paths] == [f"{name}_001.txt", f"{name}_002.txt", f"{name}_003.txt"]

    class Varying(Scripted):
        """Loses the target on a different frame each run."""

        def initialize(self, image, box_xywh):
            if self.where[image.tobytes()][1] == 0:
                self.lose = {name: {len(self.calls) % 7 + 3}}
            super().initialize(image, box_xywh)

    paths = run_vot_supervised(Varying(sequences), "var", root, tmp_path, sequences=[name], repetitions=5)
    assert len(paths) == 5 and len({p.read_text() for p in paths}) > 1


def test_skip_tags_delay_the_restart(dataset, tmp_path):
    root, sequences = dataset
    tagged = tmp_path / "sequences"
    shutil.copytree(root, tagged)
    name = sequences[0].name
    tags = np.zeros(40, dtype=int)
    tags[[10, 11]] = 1
    (tagged / name / "occlusion.tag").write_text("".join(f"{t}\n" for t in tags))
    tracker = Scripted(read_vot_sequences(tagged), lose={name: {5}})
    (path,) = run_vot_supervised(tracker, "t", tagged, tmp_path, sequences=[name], skip_tags=["occlusion"])
    assert _codes(path, 40)[5:13] == [2, 0, 0, 0, 0, 0, 0, 1]


def test_lost_and_malformed_boxes(dataset, tmp_path):
    root, sequences = dataset
    name = sequences[0].name

    class Lost(Scripted):
        def track(self, image):
            box = super().track(image)
            return np.full(4, np.nan) if self.where[image.tobytes()][1] == 3 else box

    (path,) = run_vot_supervised(Lost(sequences), "nan", root, tmp_path, sequences=[name])
    assert _codes(path, 40)[3] == 2  # no box is a failure

    class Short(Scripted):
        def track(self, image):
            return super().track(image)[:3]

    with pytest.raises(ValueError, match="frame 2: the tracker returned 3 values"):
        run_vot_supervised(Short(sequences), "short", root, tmp_path, sequences=[name])
    with pytest.raises(ValueError, match="skip_initialize >= 1"):
        run_vot_supervised(Scripted(sequences), "x", root, tmp_path, skip_initialize=0)


def test_no_ground_truth_to_initialise_on(dataset, tmp_path):
    root, sequences = dataset
    broken = tmp_path / "sequences"
    shutil.copytree(root, broken)
    name = sequences[0].name
    lines = (broken / name / "groundtruth.txt").read_text().splitlines()
    (broken / name / "groundtruth.txt").write_text("\n".join([",".join(["nan"] * 8)] + lines[1:]))
    with pytest.raises(InputError, match="groundtruth.txt:1: no ground-truth region"):
        run_vot_supervised(Scripted(sequences), "x", broken, tmp_path, sequences=[name])


def test_trackers_are_checked_by_the_protocol_class(dataset):
    assert isinstance(Scripted(dataset[1]), SingleObjectTracker)
    assert not isinstance(object(), SingleObjectTracker)


def test_progress_counts_every_frame_passed_skipped_ones_included(dataset, tmp_path, capsys):
    """Lost on frames 5 and 12 of the first sequence (as in the test above): the skips after each failure advance the
    count, which reaches the sequence's 40 frames, one line a step off a terminal."""
    root, sequences = dataset
    first = sequences[0].name
    tracker = Scripted(sequences, lose={first: {5, 12}})
    run_vot_supervised(tracker, "scripted", root, tmp_path, sequences=[first], progress=True, progress_interval=0)
    counts = [int(line.split(": ")[2].split("/")[0]) for line in capsys.readouterr().err.splitlines()]
    assert counts == sorted(counts) and counts[-1] == 40 and 10 in counts and 17 in counts
    run_vot_supervised(tracker, "again", root, tmp_path, sequences=[first], progress_interval=0)
    assert capsys.readouterr().err == ""
