import numpy as np
import pytest

from videoanalyst.core import Detections
from videoanalyst.errors import InputError
from videoanalyst.formats.mot_rows import detections_to_mot_rows, format_mot_rows, read_mot_file


def test_result_rows_round_trip_through_a_file(tmp_path):
    frames = {
        1: Detections(xyxy=[[10.5, 20.25, 40.5, 80.25], [0, 0, 5, 5]], scores=[0.9, 0.4], track_ids=[3, 7]),
        3: Detections(xyxy=[[1, 2, 3, 4]], scores=[0.5], track_ids=[3]),
    }
    text = "".join(format_mot_rows(detections_to_mot_rows(f, d)) for f, d in frames.items())
    # MOTChallenge result format: frame,id,left,top,width,height,conf,-1,-1,-1
    assert text.splitlines()[0] == "1,3,10.500,20.250,30.000,60.000,0.9,-1,-1,-1"
    path = tmp_path / "seq.txt"
    path.write_text(text)
    read = read_mot_file(path)
    assert sorted(read) == [1, 3]
    for frame, dets in frames.items():
        np.testing.assert_allclose(read[frame].xyxy, dets.xyxy, atol=1e-3)
        np.testing.assert_allclose(read[frame].scores, dets.scores, rtol=1e-6)
        assert read[frame].track_ids.tolist() == dets.track_ids.tolist()


def test_gt_rows_keep_class_consider_and_visibility(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("2,5,10,10,20,40,1,1,0.75\n1,5,8,10,20,40,0,7,1.0\n1,6,50,50,10,10,1,1,0.1\n")
    read = read_mot_file(path, kind="gt")
    assert sorted(read) == [1, 2]  # frames out of order in the file are sorted
    first = read[1]
    assert first.track_ids.tolist() == [5, 6]
    assert first.class_ids.tolist() == [7, 1]
    assert first.extra["consider"].tolist() == [0, 1]
    np.testing.assert_allclose(first.extra["visibility"], [1.0, 0.1])
    np.testing.assert_allclose(read[2].xyxy, [[10, 10, 30, 50]])


@pytest.mark.parametrize(
    "line, message",
    [
        ("1,2,3,4,5", "expected 7 to 10 comma-separated columns"),
        ("1,2,3,x,5,6,1,-1,-1,-1", "non-numeric"),
        ("1,2,3,nan,5,6,1,-1,-1,-1", "NaN"),
        ("1,2,3,4,-5,6,1,-1,-1,-1", "non-negative width"),
        ("0,2,3,4,5,6,1,-1,-1,-1", "frame >= 1"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.txt"
    path.write_text("1,1,0,0,1,1,1,-1,-1,-1\n" + line + "\n")
    with pytest.raises(InputError, match=message) as error:
        read_mot_file(path)
    assert f"{path}:2" in str(error.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match="no such MOTChallenge file"):
        read_mot_file(tmp_path / "absent.txt")


def test_an_empty_file_is_a_run_without_boxes(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    assert read_mot_file(path) == {}


@pytest.mark.parametrize("columns", [7, 8, 9, 10])
def test_result_rows_of_7_to_10_columns_are_read(tmp_path, columns):
    """MOTChallenge rows: frame, id, x, y, w, h, conf, then the world coordinates x, y, z that some tools leave out
    (MOT16 and MOT17 det.txt have 10 columns)."""
    path = tmp_path / "det.txt"
    path.write_text(",".join(["2", "-1", "10", "20", "30", "40", "0.5", "-1", "-1", "-1"][:columns]) + "\n")
    (frame,) = read_mot_file(path).values()
    np.testing.assert_array_equal(frame.xyxy, [[10, 20, 40, 60]])
    assert frame.scores.tolist() == [0.5] and frame.track_ids.tolist() == [-1]


@pytest.mark.parametrize("kind, columns, expected", [
    ("result", 6, "7 to 10"),  # no conf: a 6-column row used to read as conf -1
    ("result", 11, "7 to 10"),
    ("gt", 8, "9"),
    ("gt", 10, "9"),
])
def test_a_row_of_another_column_count_names_file_line_and_count(tmp_path, kind, columns, expected):
    path = tmp_path / "rows.txt"
    good = "1,1,0,0,1,1,1,-1,-1,-1" if kind == "result" else "1,1,0,0,1,1,1,1,1.0"
    path.write_text(good + "\n" + ",".join(["2"] * columns) + "\n")
    with pytest.raises(InputError) as error:
        read_mot_file(path, kind=kind)
    assert str(error.value).startswith(f"{path}:2: expected {expected} comma-separated columns (frame,id,x,y,w,h,")
    assert f"got {columns}:" in str(error.value) and "\n" not in str(error.value)
