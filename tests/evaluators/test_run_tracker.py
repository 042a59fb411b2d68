"""Running a tracker over a data set: the GOT-10k and OPE layouts got10k 0.1.3 writes (``ExperimentGOT10k._record``,
``ExperimentOTB._record``) read back by our evaluators, resuming (complete sequences skipped, incomplete ones run
again, a crash losing only the sequence in progress), and the split over processes."""

import re
import warnings

import numpy as np
import pytest
import torch

from videoanalyst.errors import InputError
from videoanalyst.evaluators import evaluate_got10k, evaluate_ope, evaluate_vot
from videoanalyst.evaluators.run_tracker import (
    is_complete,
    read_sot_sequences,
    result_files,
    run_sot_dataset,
    run_vot_dataset,
    track_sequence,
)
from videoanalyst.evaluators.shards import Shard
from videoanalyst.sources.image_sequences import read_image
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig

CONFIG = SceneConfig(width=64, height=48, num_frames=6)


class Oracle:
    """Finds each frame by its pixels and returns its ground-truth box; records every call; raises `crash` when
    asked to track frame `crash_at` (sequence, frame)."""

    def __init__(self, sequences, truths, crash_at=None, crash=RuntimeError):
        self.where = {read_image(path).tobytes(): (s.name, i) for s in sequences for i, path in enumerate(s.images)}
        self.truths = truths
        self.crash_at = crash_at
        self.crash = crash
        self.calls = []

    def initialize(self, image, box_xywh):
        self.calls.append(("initialize", *self.where[image.tobytes()]))

    def track(self, image):
        name, frame = self.where[image.tobytes()]
        if (name, frame) == self.crash_at:
            raise self.crash("tracker crashed")
        self.calls.append(("track", name, frame))
        return self.truths[name][frame]


def _refuse():
    raise AssertionError("the tracker was built although every sequence is complete")


@pytest.fixture(scope="module")
def got10k(tmp_path_factory):
    """(split folder, sequences, {name: ground truth}): 3 sequences of 6 frames."""
    root = tmp_path_factory.mktemp("got10k") / "val"
    folders = export_dataset("got10k", root, CONFIG, num_sequences=3)
    truths = {f.name: np.loadtxt(f / "groundtruth.txt", delimiter=",") for f in folders}
    return root, read_sot_sequences("got10k", root), truths


def test_got10k_layout_as_the_toolkit_writes_it(got10k, tmp_path):
    root, sequences, truths = got10k
    tracker = Oracle(sequences, truths)
    summary = run_sot_dataset(lambda: tracker, sequences, tmp_path / "oracle", "got10k")
    assert summary.tracked == [s.name for s in sequences] and summary.skipped == []
    for sequence in sequences:
        name = sequence.name
        lines = (tmp_path / "oracle" / name / f"{name}_001.txt").read_text().splitlines()
        assert all(len(v.split(".")[1]) == 3 for v in lines[0].split(","))  # %.3f, as the toolkit writes
        # The first row is the initial box (through float32, as the got10k_txt sink writes it: 42.3655 -> 42.366;
        # no score reads it: GOT-10k skips frame 0, OPE replaces it with the ground truth).
        np.testing.assert_allclose(np.loadtxt(lines, delimiter=","), truths[name], atol=1e-3)
        times = np.loadtxt(tmp_path / "oracle" / name / f"{name}_time.txt")
        assert times.shape == (6,) and (times > 0).all()
        assert ("initialize", name, 0) in tracker.calls
        assert [c[2] for c in tracker.calls if c[0] == "track" and c[1] == name] == [1, 2, 3, 4, 5]
    score = evaluate_got10k(root, tmp_path, ["oracle"]).scores[0]
    assert score.ao > 0.99 and score.sr75 == 1.0 and score.speed_fps > 0


def test_a_second_run_skips_complete_sequences(got10k, tmp_path):
    root, sequences, truths = got10k
    run_sot_dataset(lambda: Oracle(sequences, truths), sequences, tmp_path / "t", "got10k")
    mtimes = [p.stat().st_mtime_ns for p in sorted((tmp_path / "t").rglob("*.txt"))]
    summary = run_sot_dataset(_refuse, sequences, tmp_path / "t", "got10k")
    assert summary.tracked == [] and summary.skipped == [s.name for s in sequences]
    assert [p.stat().st_mtime_ns for p in sorted((tmp_path / "t").rglob("*.txt"))] == mtimes


def test_incomplete_or_missing_files_are_run_again(got10k, tmp_path):
    root, sequences, truths = got10k
    folder = tmp_path / "t"
    run_sot_dataset(lambda: Oracle(sequences, truths), sequences, folder, "got10k")
    first, second, third = (s.name for s in sequences)
    kept = (folder / first / f"{first}_001.txt").stat().st_mtime_ns
    truncated = folder / second / f"{second}_001.txt"
    truncated.write_text("".join(truncated.read_text().splitlines(keepends=True)[:-1]))
    (folder / third / f"{third}_time.txt").unlink()
    assert not is_complete("got10k", folder, sequences[1]) and not is_complete("got10k", folder, sequences[2])
    tracker = Oracle(sequences, truths)
    summary = run_sot_dataset(lambda: tracker, sequences, folder, "got10k")
    assert summary.tracked == [second, third] and summary.skipped == [first]
    assert {c[1] for c in tracker.calls} == {second, third}
    assert (folder / first / f"{first}_001.txt").stat().st_mtime_ns == kept
    assert all(is_complete("got10k", folder, s) for s in sequences)


@pytest.mark.parametrize("crash", [RuntimeError, KeyboardInterrupt])
def test_a_crash_loses_only_the_sequence_in_progress(got10k, tmp_path, crash):
    root, sequences, truths = got10k
    first, second, third = (s.name for s in sequences)
    tracker = Oracle(sequences, truths, crash_at=(second, 3), crash=crash)
    with pytest.raises(crash):
        run_sot_dataset(lambda: tracker, sequences, tmp_path / "t", "got10k")
    assert is_complete("got10k", tmp_path / "t", sequences[0])
    assert not (tmp_path / "t" / second).exists() and not (tmp_path / "t" / third).exists()
    summary = run_sot_dataset(lambda: Oracle(sequences, truths), sequences, tmp_path / "t", "got10k")
    assert summary.tracked == [second, third] and summary.skipped == [first]


def test_processes_take_disjoint_sequences_into_one_folder(got10k, tmp_path):
    root, sequences, truths = got10k
    names = [s.name for s in sequences]
    done = [
        run_sot_dataset(lambda: Oracle(sequences, truths), sequences, tmp_path / "t", "got10k", Shard(rank, 2)).tracked
        for rank in (0, 1)
    ]
    assert done == [[names[0], names[2]], [names[1]]]
    assert all(is_complete("got10k", tmp_path / "t", s) for s in sequences)
    assert evaluate_got10k(root, tmp_path, ["t"]).scores[0].ao > 0.99


def test_ope_layout_as_the_toolkit_writes_it(got10k, tmp_path):
    """Read back by `evaluate_ope`; a perfect tracker's success AUC is 20/21 (got10k ExperimentOTB, FACTS.md)."""
    root, _, truths = got10k
    sequences = read_sot_sequences("ope", root)
    assert [s.name for s in sequences] == list(truths)
    run_sot_dataset(lambda: Oracle(sequences, truths), sequences, tmp_path / "oracle", "ope")
    for name in truths:
        assert result_files("ope", tmp_path / "oracle", name) == (
            tmp_path / "oracle" / f"{name}.txt",
            tmp_path / "oracle" / "times" / f"{name}_time.txt",
        )
        assert np.loadtxt(tmp_path / "oracle" / "times" / f"{name}_time.txt").shape == (6,)
    overall = evaluate_ope(root, tmp_path, ["oracle"]).scores[0].overall
    assert overall.success_auc == pytest.approx(20 / 21) and overall.precision == 1.0


def test_ope_images_in_img_folder_must_match_the_ground_truth(tmp_path):
    folder = export_dataset("got10k", tmp_path / "ope", CONFIG)[0]
    (folder / "img").mkdir()
    for image in sorted(folder.glob("*.jpg"))[:5]:
        image.rename(folder / "img" / image.name)
    with pytest.raises(InputError, match=re.escape(f"{folder}: 5 images but 6 ground-truth rows")):
        read_sot_sequences("ope", folder)


def test_a_first_frame_without_a_box_is_refused(tmp_path):
    folder = export_dataset("got10k", tmp_path / "ope", CONFIG)[0]
    rows = (folder / "groundtruth.txt").read_text().splitlines()
    (folder / "groundtruth.txt").write_text("\n".join(["nan,nan,nan,nan", *rows[1:]]) + "\n")
    with pytest.raises(InputError, match="no target box in the first frame"):
        read_sot_sequences("ope", folder)


def test_a_tracker_box_of_other_than_4_values_is_refused(got10k):
    _, sequences, _ = got10k

    class Wrong:
        def initialize(self, image, box):
            pass

        def track(self, image):
            return [1.0, 2.0, 3.0]

    with pytest.raises(ValueError, match="frame 2: the tracker returned 3 values"):
        track_sequence(Wrong(), sequences[0])


def test_a_non_finite_box_stops_the_run_naming_the_frame(got10k, tmp_path):
    """Weights that overflow give NaN boxes: the run stops at the frame, and no result file with NaN rows is
    written."""
    _, sequences, _ = got10k

    class Overflowing:
        def initialize(self, image, box):
            pass

        def track(self, image):
            return [np.nan, 2.0, 3.0, 4.0]

    with pytest.raises(InputError, match=rf"{sequences[0].name}: frame 2: the tracker returned the non-finite box"):
        run_sot_dataset(Overflowing, sequences[:1], tmp_path / "T", "got10k", progress=False)
    assert not list(tmp_path.rglob("*.txt"))


def test_vot_runs_only_this_processes_sequences(tmp_path):
    root = tmp_path / "sequences"
    folders = export_dataset("vot", root, CONFIG, num_sequences=3)

    class Stay:
        def initialize(self, image, box):
            self.box = box

        def track(self, image):
            return self.box

    built = []
    names = run_vot_dataset(lambda: built.append(1) or Stay(), "stay", root, tmp_path / "res", Shard(1, 2))
    assert names == [folders[1].name] and built == [1]
    assert sorted(p.name for p in (tmp_path / "res" / "stay" / "baseline").iterdir()) == [folders[1].name]
    assert run_vot_dataset(_refuse, "stay", root, tmp_path / "res", Shard(3, 4)) == []
    report = evaluate_vot(folders[1], tmp_path / "res", ["stay"])
    assert report.scores[0].sequences[folders[1].name].runs == 1


def test_frames_reach_the_tracker_writable_so_torch_takes_them_without_a_warning(got10k, tmp_path):
    """`OneTarget` views each frame as a tensor (`torch.from_numpy`, no copy); a read-only array (what
    ``np.asarray(PIL image)`` gives) made PyTorch warn "The given NumPy array is not writable" on every
    ``evaluate --exp``."""
    _, sequences, _ = got10k

    class Viewer:
        """Views each frame as a tensor, as `OneTarget` does, and stays where it started."""

        def __init__(self):
            self.writable = []

        def initialize(self, image, box):
            self._view(image)
            self.box = box

        def track(self, image):
            self._view(image)
            return self.box

        def _view(self, image):
            self.writable.append(image.flags.writeable)
            torch.from_numpy(image).permute(2, 0, 1)

    viewer = Viewer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_sot_dataset(lambda: viewer, sequences[:1], tmp_path / "t", "got10k")
    assert viewer.writable == [True] * len(sequences[0])


def test_each_frame_is_counted_on_stderr_off_a_terminal(got10k, tmp_path, capsys):
    root, sequences, truths = got10k
    run_sot_dataset(lambda: Oracle(sequences, truths), sequences[:2], tmp_path / "t", "got10k", Shard(),
                    progress_interval=0)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("progress:")]
    first, second = (s.name for s in sequences[:2])
    assert [line.split(" frames")[0] for line in lines] == [
        *(f"progress: {first}: {i}/6" for i in range(1, 7)), *(f"progress: {second}: {i}/6" for i in range(1, 7))]
    run_sot_dataset(lambda: Oracle(sequences, truths), sequences[2:], tmp_path / "t", "got10k", progress=False,
                    progress_interval=0)
    assert capsys.readouterr().err == ""
