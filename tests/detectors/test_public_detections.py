"""Public detections: det.txt rows per frame, empty frames, the MOT17 layout, and every bad-input message."""

from __future__ import annotations

import numpy as np
import pytest

from videoanalyst.core import Detections, FramePacket, Stage, StreamInfo
from videoanalyst.core.packet import DETECTIONS
from videoanalyst.detectors.public_detections import PublicDetections
from videoanalyst.errors import ConfigError, InputError
from videoanalyst.formats.mot17 import MotSeqInfo, format_mot_seqinfo
from videoanalyst.pipeline.runner import Pipeline
from videoanalyst.sources.mot17 import Mot17Source
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import SceneConfig

# frame 3 before frame 1, frame 2 without rows; DPM-like negative confidences
DET_TXT = ("3,-1,7.5,8.25,10,20,0.75,-1,-1,-1\n"
           "1,-1,100.125,50,30.5,60,-0.3,-1,-1,-1\n"
           "1,-1,0,0,1,2,2.5,-1,-1,-1\n")


def sequence(tmp_path, det_txt=DET_TXT, length=4, name="MOT17-02-DPM"):
    """A MOT17 sequence folder with seqinfo.ini and det/det.txt (no images: the stage only reads the stream info)."""
    folder = tmp_path / name
    (folder / "det").mkdir(parents=True)
    (folder / "det" / "det.txt").write_text(det_txt)
    info = MotSeqInfo(name=name, im_dir="img1", frame_rate=30.0, seq_length=length, im_width=640, im_height=480,
                      im_ext=".jpg")
    (folder / "seqinfo.ini").write_text(format_mot_seqinfo(info))
    return folder


def run(stage, folder, frames=4):
    stage.reset(StreamInfo(folder.name, 640, 480, fps=30.0, num_frames=frames, path=str(folder)))
    packets = [FramePacket(folder.name, i, i / 30, np.zeros((4, 4, 3), np.uint8)) for i in range(frames)]
    for packet in packets:
        stage.process(packet)
    return [packet.outputs.get(DETECTIONS) for packet in packets]


def test_rows_come_back_per_frame_exactly(tmp_path):
    first, second, third, fourth = run(PublicDetections(), sequence(tmp_path))
    np.testing.assert_array_equal(first.xyxy, np.float32([[100.125, 50, 130.625, 110], [0, 0, 1, 2]]))
    np.testing.assert_array_equal(first.scores, np.float32([-0.3, 2.5]))  # every row kept by default
    assert first.class_ids.tolist() == [1, 1] and first.track_ids.tolist() == [-1, -1]
    assert isinstance(second, Detections) and len(second) == 0  # no rows: nothing seen, not a skipped frame
    np.testing.assert_array_equal(third.xyxy, np.float32([[7.5, 8.25, 17.5, 28.25]]))
    np.testing.assert_array_equal(third.scores, np.float32([0.75]))
    assert len(fourth) == 0


def test_min_score_every_class_id_and_an_explicit_path(tmp_path):
    folder = sequence(tmp_path)
    moved = tmp_path / "dets" / f"{folder.name}.txt"
    moved.parent.mkdir()
    (folder / "det" / "det.txt").rename(moved)
    stage = PublicDetections(path=str(tmp_path / "dets" / "{stream_id}.txt"), min_score=0.0, every=2, class_id=7)
    first, second, third, fourth = run(stage, folder)
    assert first.scores.tolist() == [2.5] and first.class_ids.tolist() == [7]
    assert second is None and fourth is None  # skipped frames carry no detections, so trackers predict
    assert third.scores.tolist() == [0.75]


def test_a_new_stream_forgets_the_last(tmp_path):
    stage = PublicDetections()
    run(stage, sequence(tmp_path))
    (first, *_) = run(stage, sequence(tmp_path, det_txt="2,-1,1,1,1,1,0.5\n", name="MOT17-04-DPM"))
    assert len(first) == 0


def test_the_mot17_source_layout_in_a_pipeline(tmp_path):
    """The stream the mot17 source opens points at the sequence folder: its det/det.txt is read, frame numbers kept
    when the source starts later in the sequence."""
    (folder,) = export_dataset("mot17", tmp_path / "split", SceneConfig(width=64, height=48, num_frames=6))
    expected = {int(line.split(",")[0]) for line in (folder / "det" / "det.txt").read_text().splitlines()}

    class Collect(Stage):
        def __init__(self) -> None:
            self.seen: dict[int, Detections] = {}

        def process(self, packet: FramePacket) -> None:
            self.seen[packet.frame_index] = packet.outputs[DETECTIONS]

    collect = Collect()
    Pipeline(Mot17Source(str(folder), start=2), [PublicDetections, lambda: collect], progress=False).run()
    assert sorted(collect.seen) == [2, 3, 4, 5]
    assert {i + 1 for i, d in collect.seen.items() if len(d)} == expected & {3, 4, 5, 6}


@pytest.mark.parametrize("line, message", [
    ("1,-1,2,3,4", "expected 7 to 10 comma-separated columns"),
    ("1,-1,2,3,4,5", r"expected 7 to 10 comma-separated columns \(frame,id,x,y,w,h,conf\[,x,y,z\]\), got 6"),
    ("1,-1,2,3,4,5,0.9,-1,-1,-1,7", "expected 7 to 10 comma-separated columns .*, got 11"),
    ("1,-1,2,x,4,5,0.9", "non-numeric"),
    ("1,-1,2,nan,4,5,0.9", "NaN"),
    ("1,-1,2,3,-4,5,0.9", "non-negative width"),
])
def test_malformed_rows_name_file_and_line(tmp_path, line, message):
    folder = sequence(tmp_path, det_txt=DET_TXT + line + "\n")
    with pytest.raises(InputError, match=message) as error:
        run(PublicDetections(), folder)
    assert f"{folder / 'det' / 'det.txt'}:4" in str(error.value)


def test_rows_without_world_coordinates_are_read(tmp_path):
    """det.txt rows of 7 columns (frame,id,x,y,w,h,conf: the MOTChallenge columns some tools stop at)."""
    seven = "".join(",".join(line.split(",")[:7]) + "\n" for line in DET_TXT.splitlines())
    first, _, third, _ = run(PublicDetections(), sequence(tmp_path, det_txt=seven))
    np.testing.assert_array_equal(first.scores, np.float32([-0.3, 2.5]))
    np.testing.assert_array_equal(third.xyxy, np.float32([[7.5, 8.25, 17.5, 28.25]]))


def test_nan_confidence_names_file_and_frame(tmp_path):
    folder = sequence(tmp_path, det_txt="2,-1,1,1,1,1,nan\n")
    with pytest.raises(InputError, match="det.txt: frame 2 has a row whose conf \\(7th column\\) is NaN"):
        run(PublicDetections(), folder)


def test_frame_past_the_sequence_is_refused(tmp_path):
    folder = sequence(tmp_path, det_txt=DET_TXT + "4,-1,1,1,1,1,0.5\n")
    run(PublicDetections(), folder, frames=2)  # seqinfo.ini's 4 frames decide, not the 2 a frame range streams
    (folder / "det" / "det.txt").write_text(DET_TXT + "5,-1,1,1,1,1,0.5\n")
    with pytest.raises(InputError, match="frame 5 is past the 4 frames of stream 'MOT17-02-DPM'"):
        run(PublicDetections(), folder)
    (folder / "seqinfo.ini").unlink()  # no seqinfo.ini: the frames the stream delivers decide
    run(PublicDetections(), folder, frames=5)
    with pytest.raises(InputError, match="frame 5 is past the 3 frames"):
        run(PublicDetections(), folder, frames=3)


def test_missing_file_names_the_path_and_the_layout(tmp_path):
    folder = sequence(tmp_path)
    (folder / "det" / "det.txt").unlink()
    with pytest.raises(InputError, match="det.txt: no such det.txt for stream 'MOT17-02-DPM'") as error:
        run(PublicDetections(), folder)
    assert str(folder / "det" / "det.txt") in str(error.value)
    assert "<sequence folder>/det/det.txt" in str(error.value)
    with pytest.raises(InputError, match="absent.txt: no such det.txt"):
        run(PublicDetections(path=str(tmp_path / "absent.txt")), folder)
    with pytest.raises(ConfigError, match="set `path` to its det.txt"):
        PublicDetections().reset(StreamInfo("camera", 640, 480))
    with pytest.raises(ConfigError, match="every must be >= 1"):
        PublicDetections(every=0)
