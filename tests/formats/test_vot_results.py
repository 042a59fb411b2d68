"""VOT supervised result files: what vot-toolkit 0.9.0 reads (``vot/region/io.py``: ``parse_region``), read back
with codes and regions apart, and every malformed file refused with its file and line named."""

import numpy as np
import pytest

from videoanalyst.errors import InputError
from videoanalyst.formats.vot_results import (
    FAILURE,
    INITIALIZATION,
    SKIPPED,
    TRACKED,
    format_vot_code,
    format_vot_region,
    read_vot_run,
    vot_result_path,
    vot_time_path,
)

GOOD = "1\n10,20,30,40\n 11.5, 20 ,30,40\n2\n0\n0\n0\n0\n1\n1,2,3,2,3,4,1,4\n"


def test_reads_codes_and_regions(tmp_path):
    path = tmp_path / "seq_001.txt"
    path.write_text(GOOD)
    run = read_vot_run(path, 10)
    expected = [INITIALIZATION, TRACKED, TRACKED, FAILURE, SKIPPED, SKIPPED, SKIPPED, SKIPPED, INITIALIZATION, TRACKED]
    assert run.codes.tolist() == expected and len(run) == 10
    assert run.regions[1].tolist() == [10, 20, 30, 40]
    assert run.regions[2].tolist() == [11.5, 20, 30, 40]  # spaces around commas are fine, as in the toolkit
    assert run.regions[9].tolist() == [1, 2, 3, 2, 3, 4, 1, 4]
    assert all(len(run.regions[i]) == 0 for i in (0, 3, 4, 8))
    assert len(read_vot_run(path)) == 10  # frame count unchecked


def test_file_names_follow_the_toolkit(tmp_path):
    """``Trajectory.write``: ``<name>.txt`` and one ``<name>_<property>.value`` a property, here ``time``."""
    assert vot_result_path(tmp_path, "ball", 2) == tmp_path / "ball_002.txt"
    assert vot_time_path(tmp_path, "ball", 1) == tmp_path / "ball_001_time.value"


def test_region_lines_keep_float32_precision():
    line = format_vot_region(np.array([0.1, 20.5, 1e-3, 123.456789]))
    assert line == "0.1,20.5,0.001,123.45679\n"
    assert np.array_equal(np.float32([float(v) for v in line.split(",")]), np.float32([0.1, 20.5, 1e-3, 123.456789]))
    assert format_vot_code(FAILURE) == "2\n"


@pytest.mark.parametrize(
    ("text", "frames", "message"),
    [
        (GOOD, 11, "expected one line a frame \\(11 lines\\), got 10"),
        ("1\n10,20,30,40\n", 3, "got 2; the toolkit does not pad"),
        ("1\nnan,20,30,40\n", 2, ":2: NaN or infinite"),
        ("1\n10,20,inf,40\n", 2, ":2: NaN or infinite"),
        ("1\n10,20,-1,40\n", 2, ":2: negative width or height"),
        ("1\n10 20 30 40\n", 2, ":2: expected comma-separated numbers"),
        ("1\n10;20;30;40\n", 2, ":2: expected comma-separated numbers"),
        ("1\n10\t20\t30\t40\n", 2, ":2: expected comma-separated numbers"),
        ("1\n10,20,30\n", 2, ":2: expected 1 \\(code\\), 4 \\(x,y,w,h\\) or an even number"),
        ("1\n10,20\n", 2, ":2: expected 1 \\(code\\)"),
        ("1\n1,2,3,4,5,6,7\n", 2, ":2: expected 1 \\(code\\)"),
        ("1\nten,20,30,40\n", 2, ":2: expected comma-separated numbers"),
        ("1\n3\n", 2, ":2: expected a code 0 \\(skipped\\), 1 \\(initialised\\) or 2 \\(failed\\), got '3'"),
        ("1\n1.5\n", 2, ":2: expected a code 0"),
        ("1\n\n10,20,30,40\n", 3, ":2: blank line"),
        ("10,20,30,40\n1\n", 2, ":1: expected the run to start with an initialisation"),
        ("1\n2\n2\n", 3, ":3: expected an initialisation \\(1\\) next"),
        ("1\n10,20,30,40\n1\n", 3, ":3: expected a failure \\(2\\) next"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, text, frames, message):
    path = tmp_path / "seq_001.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=f"seq_001.txt{message}" if message.startswith(":") else message) as error:
        read_vot_run(path, frames)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="seq_001.txt: no such VOT result file"):
        read_vot_run(tmp_path / "seq_001.txt", 3)
