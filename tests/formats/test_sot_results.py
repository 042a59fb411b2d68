"""Reading single-object tracking result files: every bad input gives one InputError naming the file and line."""

import numpy as np
import pytest

from videoanalyst.errors import InputError
from videoanalyst.formats.sot_results import (
    read_got10k_results,
    read_got10k_times,
    read_ope_groundtruth,
    read_ope_results,
    read_ope_times,
    read_sot_boxes,
    read_times,
    tracker_folders,
)


def _file(tmp_path, text, name="seq.txt"):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("text", ["1,2,3,4\n5,6,7,8\n", "1\t2\t3\t4\n5\t6\t7\t8\n", "1 2 3 4\n5 6 7 8"])
def test_comma_tab_and_space_rows(tmp_path, text):
    np.testing.assert_array_equal(read_sot_boxes(_file(tmp_path, text), 2), [[1, 2, 3, 4], [5, 6, 7, 8]])


def test_all_nan_row_is_kept(tmp_path):
    """``nan,nan,nan,nan`` is how a tracker (and our got10k_txt sink) says it has no box; the evaluator rules."""
    boxes = read_sot_boxes(_file(tmp_path, "1,2,3,4\nnan,nan,nan,nan\nNaN,NaN,NaN,NaN\n"), 3)
    assert np.isnan(boxes[1:]).all() and not np.isnan(boxes[0]).any()


@pytest.mark.parametrize(
    ("text", "frames", "message"),
    [
        (
            "1,2,3,4\n",
            2,
            r"seq.txt: expected one x,y,w,h row a frame \(2 rows, as the ground truth has frames\), got 1",
        ),
        ("1,2,3,4\n1,2,3,4\n1,2,3,4\n", 2, r"seq.txt: expected one x,y,w,h row a frame \(2 rows.*got 3"),
        ("", 2, r"seq.txt: expected one x,y,w,h row a frame \(2 rows.*got 0"),
        ("1,2,3,4\n1,nan,3,4\n", 2, r"seq.txt:2: NaN in '1,nan,3,4'"),
        ("1,2,3,4\n1,2,-3,4\n", 2, r"seq.txt:2: negative width or height in x,y,w,h 1, 2, -3, 4"),
        ("1,2,3,4\n1,2,3,-0.5\n", 2, r"seq.txt:2: negative width or height"),
        ("1;2;3;4\n1;2;3;4\n", 2, r"seq.txt:1: expected 4 values a row, got 1: '1;2;3;4'"),
        ("1,2,3,4\n1,2,3,4,5\n", 2, r"seq.txt:2: expected 4 values a row, got 5"),
        ("1,2,3,4\n1,2,3\n", 2, r"seq.txt:2: expected 4 values a row, got 3"),
        ("1,2,3,4\n\n1,2,3,4\n", 3, r"seq.txt:2: expected 4 values a row, got 0"),
        ("1,2,3,4\n1,2,x,4\n", 2, r"seq.txt:2: non-numeric value in '1,2,x,4'"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, text, frames, message):
    with pytest.raises(InputError, match=message):
        read_sot_boxes(_file(tmp_path, text), frames)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="nothing.txt: no such file"):
        read_sot_boxes(tmp_path / "nothing.txt", 1)


def test_got10k_runs_in_name_order(tmp_path):
    folder = tmp_path / "T" / "seq"
    for run in (2, 1):
        _file(folder, f"{run},0,1,1\n{run},0,1,1\n", f"seq_{run:03d}.txt")
    _file(folder, "0.1,0.2\n0.1,nan\n", "seq_time.txt")
    runs = read_got10k_results(tmp_path / "T", "seq", 2)
    assert [p.name for p in runs] == ["seq_001.txt", "seq_002.txt"]
    assert [b[0, 0] for b in runs.values()] == [1, 2]
    np.testing.assert_array_equal(read_got10k_times(tmp_path / "T", "seq"), [0.1, 0.2, 0.1])


def test_got10k_missing_results(tmp_path):
    (tmp_path / "T").mkdir()
    with pytest.raises(InputError, match=r"T/seq: no results of sequence 'seq' \(expected seq/seq_001.txt\)"):
        read_got10k_results(tmp_path / "T", "seq", 2)
    (tmp_path / "T" / "seq").mkdir()
    _file(tmp_path / "T" / "seq", "0.1\n", "seq_time.txt")
    with pytest.raises(InputError, match="T/seq: no result file seq_001.txt"):
        read_got10k_results(tmp_path / "T", "seq", 2)
    _file(tmp_path / "T" / "seq", "1,2,3,4\n", "seq_001.txt")
    with pytest.raises(InputError, match=r"seq_001.txt: expected one x,y,w,h row a frame \(2 rows"):
        read_got10k_results(tmp_path / "T", "seq", 2)


def test_times(tmp_path):
    """Positive values only, as both got10k experiments keep them; any columns; absent file: None."""
    assert read_times(tmp_path / "none.txt") is None
    np.testing.assert_array_equal(read_times(_file(tmp_path, "0.5 0.25\n0\n-1,nan\n", "t.txt")), [0.5, 0.25])
    with pytest.raises(InputError, match=r"t.txt:2: expected per-frame seconds, got '0.1,fast'"):
        read_times(_file(tmp_path, "0.1\n0.1,fast\n", "t.txt"))
    assert read_ope_times(tmp_path / "T", "seq") is None
    _file(tmp_path / "T" / "times", "0.1\n0.2\n", "seq_time.txt")
    np.testing.assert_array_equal(read_ope_times(tmp_path / "T", "seq"), [0.1, 0.2])


def test_ope_results_and_groundtruth(tmp_path):
    _file(tmp_path / "T", "1,2,3,4\n", "seq.txt")
    np.testing.assert_array_equal(read_ope_results(tmp_path / "T", "seq", 1), [[1, 2, 3, 4]])
    with pytest.raises(InputError, match=r"T/other.txt: no such file"):
        read_ope_results(tmp_path / "T", "other", 1)
    folder = tmp_path / "gt" / "seq"
    folder.mkdir(parents=True)
    with pytest.raises(InputError, match=r"seq: no ground-truth file \(groundtruth_rect.txt or groundtruth.txt\)"):
        read_ope_groundtruth(folder)
    _file(folder, "1\t2\t3\t4\nNaN,NaN,NaN,NaN\n", "groundtruth.txt")
    assert read_ope_groundtruth(folder).shape == (2, 4)
    _file(folder, "5,6,7,8\n", "groundtruth_rect.txt")  # OTB's name first
    np.testing.assert_array_equal(read_ope_groundtruth(folder), [[5, 6, 7, 8]])
    _file(folder, "5,6,7,8\n5,6,-7,8\n", "groundtruth_rect.txt")
    with pytest.raises(InputError, match="groundtruth_rect.txt:2: negative width or height"):
        read_ope_groundtruth(folder)


def test_tracker_folders(tmp_path):
    with pytest.raises(InputError, match="results: no such results folder"):
        tracker_folders(tmp_path / "results")
    (tmp_path / "results").mkdir()
    with pytest.raises(InputError, match="results: no tracker folders"):
        tracker_folders(tmp_path / "results")
    for name in ("b", "a"):
        (tmp_path / "results" / name).mkdir()
    assert [f.name for f in tracker_folders(tmp_path / "results")] == ["a", "b"]
    assert [f.name for f in tracker_folders(tmp_path / "results", ["b", "a"])] == ["b", "a"]
    with pytest.raises(InputError, match="results: no results of tracker 'c'; there are: a, b"):
        tracker_folders(tmp_path / "results", ["c"])
