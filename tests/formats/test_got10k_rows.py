import numpy as np
from got10k.experiments import ExperimentGOT10k

from videoanalyst.core import TargetState
from videoanalyst.formats.got10k_rows import format_time_rows, target_to_got10k_row


def test_rows_and_times_match_the_toolkit_byte_for_byte(tmp_path):
    """Reference: got10k 0.1.3 `ExperimentGOT10k._record` (np.savetxt with %.3f boxes, %.8f seconds)."""
    boxes = np.array([[10.0, 20.5, 30.25, 40.125], [11.3333, 21.0, 29.0, 41.0]])
    times = np.array([0.0123456789, 0.005])
    record_file = tmp_path / "toolkit" / "seq" / "seq_001.txt"
    ExperimentGOT10k._record(None, str(record_file), boxes, times)
    ours = "".join(target_to_got10k_row(TargetState.from_xywh(b)) for b in boxes)
    assert ours == record_file.read_text()
    assert format_time_rows(times) == (record_file.parent / "seq_time.txt").read_text()
    two_runs = np.stack([times, times * 2], axis=1)
    assert format_time_rows(two_runs).splitlines()[0] == "0.01234568,0.02469136"
