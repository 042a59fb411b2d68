import json

import numpy as np
import pytest

from videoanalyst.core import Detections, FramePacket, StreamInfo, TargetState
from videoanalyst.errors import InputError
from videoanalyst.formats.mot_rows import read_mot_file
from videoanalyst.sinks.got10k_txt import Got10kTxtSink
from videoanalyst.sinks.json_lines import JsonLinesSink
from videoanalyst.sinks.mot_txt import MotTxtSink

INFO = StreamInfo("seq", 64, 48, fps=30, num_frames=3)


def packet(index, **outputs):
    p = FramePacket("seq", index, index / 30, np.zeros((48, 64, 3), np.uint8))
    p.outputs.update(outputs)
    return p


def test_mot_txt_writes_tracked_boxes_line_by_line(tmp_path):
    sink = MotTxtSink(str(tmp_path))
    sink.reset(INFO)
    frames = [Detections(xyxy=[[1, 2, 11, 22], [5, 5, 6, 6]], scores=[0.9, 0.3], track_ids=[4, -1]),
              Detections.empty(),
              Detections(xyxy=[[2, 3, 12, 23]], scores=[0.8], track_ids=[4])]
    for i, dets in enumerate(frames):
        sink.process(packet(i, detections=dets))
    # each line is on disk before close: a crash loses nothing already processed
    assert len((tmp_path / "seq.txt").read_text().splitlines()) == 2
    sink.close()
    read = read_mot_file(tmp_path / "seq.txt")
    assert sorted(read) == [1, 3]  # 1-based frames; the untracked box (id -1) is not a result
    np.testing.assert_allclose(read[3].xyxy, [[2, 3, 12, 23]])
    assert read[1].track_ids.tolist() == [4]


def test_mot_txt_without_tracking_writes_det_style_rows(tmp_path):
    sink = MotTxtSink(str(tmp_path), tracked_only=False)
    sink.reset(INFO)
    sink.process(packet(0, detections=Detections(xyxy=[[1, 2, 3, 4]], scores=[0.5])))
    sink.close()
    assert (tmp_path / "seq.txt").read_text() == "1,-1,1.000,2.000,2.000,2.000,0.5,-1,-1,-1\n"


def test_got10k_layout_and_time_columns_for_repetitions(tmp_path):
    results = tmp_path / "MyTracker"
    for repetition in (1, 2):
        sink = Got10kTxtSink(str(results), repetition=repetition)
        sink.reset(INFO)
        for i in range(3):
            p = packet(i, target=TargetState.from_xywh([10 + i, 20, 30, 40]))
            p.stage_seconds.update({"tracker": 0.01 * repetition, "other": 0.001})
            sink.process(p)
        sink.close()
    boxes = np.loadtxt(results / "seq" / "seq_001.txt", delimiter=",")  # how the toolkit reads it
    np.testing.assert_allclose(boxes[:, 0], [10, 11, 12])
    assert (results / "seq" / "seq_002.txt").is_file()
    times = np.loadtxt(results / "seq" / "seq_time.txt", delimiter=",")
    np.testing.assert_allclose(times, [[0.011, 0.021]] * 3)


def test_got10k_sink_needs_a_target(tmp_path):
    sink = Got10kTxtSink(str(tmp_path))
    sink.reset(INFO)
    with pytest.raises(InputError, match="frame 0 of 'seq' has no 'target' output"):
        sink.process(packet(0))
    sink.close()


def test_json_lines_one_object_a_frame(tmp_path):
    sink = JsonLinesSink(str(tmp_path), timings=True)
    sink.reset(INFO)
    p = packet(1, detections=Detections(xyxy=[[1, 2, 3, 4]], track_ids=[2]), target=TargetState([1, 2, 3, 4]),
               other=object())
    p.stage_seconds["tracker"] = 0.0025
    sink.process(p)
    sink.close()
    record = json.loads((tmp_path / "seq.jsonl").read_text())
    assert record["frame"] == 1 and record["timestamp"] == pytest.approx(1 / 30, abs=1e-6)
    assert record["detections"][0]["track_id"] == 2 and record["target"]["xyxy"] == [1, 2, 3, 4]
    assert "other" not in record and record["stage_ms"] == {"tracker": 2.5}


def test_got10k_repetitions_of_different_lengths_keep_every_time(tmp_path):
    """A shorter or longer earlier run is padded with NaN (the toolkit skips NaN times), never dropped."""
    results = tmp_path / "MyTracker"
    for repetition, frames in ((1, 2), (2, 3)):
        sink = Got10kTxtSink(str(results), repetition=repetition)
        sink.reset(INFO)
        for i in range(frames):
            p = packet(i, target=TargetState.from_xywh([1, 2, 3, 4]))
            p.stage_seconds["tracker"] = 0.01 * repetition
            sink.process(p)
        sink.close()
    times = np.loadtxt(results / "seq" / "seq_time.txt", delimiter=",")
    np.testing.assert_allclose(times, [[0.01, 0.02], [0.01, 0.02], [np.nan, 0.02]])
