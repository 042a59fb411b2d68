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
        ("1,2,3,4,5", "expected at least 6 comma-separated columns"),
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
