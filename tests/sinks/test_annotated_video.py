"""AnnotatedVideoSink: the written clip reads back frame-exact through VideoSource, with the boxes where they belong."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from videoanalyst.core import FramePacket, StreamInfo
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, TARGET
from videoanalyst.core.target_state import TargetState
from videoanalyst.errors import ConfigError, InputError
from videoanalyst.sinks.annotated_video import AnnotatedVideoSink, Trails
from videoanalyst.sinks.drawing import annotate
from videoanalyst.sources.video import VideoSource, mp4_boxes

FPS = 25.0
WIDTH, HEIGHT = 160, 120
BOX = (40.0, 30.0, 100.0, 90.0)


def frame(index: int, width: int = WIDTH, height: int = HEIGHT, t0: float = 0.0) -> FramePacket:
    """A flat grey frame whose brightness encodes its index, with one tracked box."""
    packet = FramePacket("walk", index, t0 + index / FPS, np.full((height, width, 3), 20 + 6 * index, np.uint8))
    packet.outputs[DETECTIONS] = Detections([BOX], scores=[0.8], track_ids=[7])
    return packet


def luma_error(image: np.ndarray, expected: np.ndarray) -> float:
    """Mean absolute BT.709 luma difference: the codec's loss, without the chroma that yuv420p keeps at half size."""
    weights = np.array([0.2126, 0.7152, 0.0722])
    return float(np.abs(image.astype(float) @ weights - expected.astype(float) @ weights).mean())


def write(tmp_path, packets: list[FramePacket], **kwargs) -> AnnotatedVideoSink:
    sink = AnnotatedVideoSink(str(tmp_path), **kwargs)
    sink.reset(StreamInfo("walk", packets[0].width, packets[0].height, fps=FPS, num_frames=len(packets)))
    for packet in packets:
        sink.process(packet)
    sink.close()
    return sink


def read_back(tmp_path) -> list[FramePacket]:
    (stream,) = list(VideoSource(str(tmp_path / "walk.mp4")).streams())
    return list(stream)


def test_round_trip_is_frame_exact(tmp_path):
    packets = [frame(i, t0=1.5) for i in range(30)]
    write(tmp_path, packets, trail_length=0)
    back = read_back(tmp_path)
    assert len(back) == len(packets)
    assert [p.timestamp for p in back] == pytest.approx([p.timestamp for p in packets], abs=1e-6)
    for packet, written in zip(back, packets):
        drawn = annotate(written.image, detections=written.outputs[DETECTIONS])
        assert luma_error(packet.image, drawn) < 2.5, f"frame {written.frame_index}"
        assert np.median(np.abs(packet.image.astype(int) - drawn)) <= 1
        assert abs(int(np.median(packet.image)) - int(written.image[0, 0, 0])) <= 1  # not a neighbour frame


def test_boxes_are_drawn_where_the_detections_are(tmp_path):
    packets = [frame(i) for i in range(5)]
    write(tmp_path, packets)
    x1, y1, x2, y2 = (int(v) for v in BOX)
    for packet, written in zip(read_back(tmp_path), packets):
        background = int(written.image[0, 0, 0])
        for x, y in [(x1, (y1 + y2) // 2), (x2, (y1 + y2) // 2), ((x1 + x2) // 2, y2)]:
            assert np.abs(packet.image[y, x].astype(int) - background).max() > 60, (x, y)
        assert np.abs(packet.image[y2 - 15, x1 + 15].astype(int) - background).max() <= 6  # inside, off the trail


def test_target_and_ground_truth_are_drawn_when_asked(tmp_path):
    packets = [FramePacket("walk", i, i / FPS, np.full((HEIGHT, WIDTH, 3), 60, np.uint8)) for i in range(3)]
    for packet in packets:
        packet.outputs[TARGET] = TargetState(np.array([20, 20, 60, 60]), score=0.9)
        packet.outputs[GROUND_TRUTH] = TargetState(np.array([110, 60, 150, 110]))
    write(tmp_path / "without", packets)
    write(tmp_path / "with", packets, draw_ground_truth=True)
    without, with_truth = read_back(tmp_path / "without")[1], read_back(tmp_path / "with")[1]
    assert np.abs(without.image[40, 20].astype(int) - 60).max() > 60  # target's left edge
    assert np.abs(without.image[85, 110].astype(int) - 60).max() <= 3  # ground truth off by default
    assert np.abs(with_truth.image[85, 110].astype(int) - 60).max() > 60


def test_sink_closed_after_a_failure_halfway_leaves_a_readable_file(tmp_path):
    sink = AnnotatedVideoSink(str(tmp_path))
    sink.reset(StreamInfo("walk", WIDTH, HEIGHT, fps=FPS, num_frames=40))
    with pytest.raises(RuntimeError, match="stage failed"):
        try:
            for index in range(40):
                if index == 12:
                    raise RuntimeError("stage failed")
                sink.process(frame(index))
        finally:
            sink.close()  # what the runner does
    back = read_back(tmp_path)
    assert [p.timestamp for p in back] == pytest.approx([i / FPS for i in range(12)], abs=1e-6)
    assert [int(np.median(p.image)) for p in back] == pytest.approx([20 + 6 * i for i in range(12)], abs=1)


def test_odd_frame_size_is_padded_to_even(tmp_path):
    packets = [frame(i, width=81, height=61) for i in range(4)]
    write(tmp_path, packets, trail_length=0)
    back = read_back(tmp_path)
    assert back[0].image.shape == (62, 82, 3)
    drawn = annotate(packets[2].image, detections=packets[2].outputs[DETECTIONS])
    assert luma_error(back[2].image[:61, :81], drawn) < 2.5
    np.testing.assert_array_equal(back[2].image[61], back[2].image[60])  # the padded row repeats the last one


def test_codec_without_crf_uses_the_bit_rate(tmp_path):
    sink = write(tmp_path, [frame(i) for i in range(6)], codec="mpeg4", bit_rate=2_000_000)
    assert sink.options == {}
    assert len(read_back(tmp_path)) == 6


def test_unknown_codec_is_a_config_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="codec 'h266_dreams' is not an encoder"):
        AnnotatedVideoSink(str(tmp_path), codec="h266_dreams")


def test_a_stream_without_frames_writes_nothing_and_closes_twice(tmp_path):
    sink = AnnotatedVideoSink(str(tmp_path))
    sink.close()
    sink.reset(StreamInfo("walk", WIDTH, HEIGHT))
    sink.close()
    sink.close()
    assert not (tmp_path / "walk.mp4").exists()


def test_trails_stay_bounded_over_a_long_stream():
    trails = Trails(length=5)
    for index in range(2000):  # track 0 stays; every frame also brings a track never seen again
        trails.update(Detections([[index, 0, index + 10, 10], [0, 0, 4, 4]], track_ids=[0, index + 1]))
        assert len(trails.points) <= 6
        assert all(len(points) <= 5 for points in trails.points.values())
    assert list(trails.points[0])[-1] == (1999 + 5, 5)
    assert sorted(trails.points) == [0, 1996, 1997, 1998, 1999, 2000]


def test_trail_of_a_track_that_returns_in_time_is_kept():
    trails = Trails(length=3)
    trails.update(Detections([[0, 0, 2, 2]], track_ids=[4]))
    trails.update(Detections.empty())
    trails.update(Detections.empty())
    assert 4 in trails.points
    trails.update(Detections.empty())
    assert 4 not in trails.points


def noise_frame(index: int, t0: float = 1.5) -> FramePacket:
    """Fresh noise every frame: no frame predicts another, so each costs about the same bytes in the file."""
    image = np.random.default_rng(index).integers(0, 256, (48, 64, 3), np.uint8)
    return FramePacket("walk", index, t0 + index / FPS, image)


def box_types(path) -> list[bytes]:
    return [kind for kind, _ in mp4_boxes(str(path))]


def test_the_mp4_is_written_in_fragments_of_fragment_seconds(tmp_path):
    write(tmp_path, [noise_frame(i) for i in range(60)], fragment_seconds=0.5)
    boxes = box_types(tmp_path / "walk.mp4")
    # 0.5 s holds 13 frames at 25 fps (a fragment ends at the first frame 0.5 s after its start): ceil(60 / 13).
    assert boxes.count(b"moof") == 5 and boxes.count(b"mdat") == 5
    assert boxes[:2] == [b"ftyp", b"moov"] and boxes[-1] == b"mfra"
    write(tmp_path / "classic", [noise_frame(i) for i in range(60)], fragment_seconds=None)
    assert box_types(tmp_path / "classic" / "walk.mp4") == [b"ftyp", b"free", b"mdat", b"moov"]


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_file_cut_short_delivers_the_frames_before_the_cut_and_warns_once(tmp_path, fraction):
    packets = [noise_frame(i) for i in range(50)]
    write(tmp_path, packets)
    complete = {p.timestamp: p.image for p in read_back(tmp_path)}
    data = (tmp_path / "walk.mp4").read_bytes()
    (tmp_path / "walk.mp4").write_bytes(data[:round(len(data) * fraction)])
    with pytest.warns(UserWarning, match=r"walk.mp4: the video ended after \d+ frames, inside an mp4 box cut short") \
            as record:
        back = read_back(tmp_path)
    assert len(record) == 1
    # Frames cost about the same bytes, so the cut keeps about that fraction of them, less the frame it cuts in two
    # and any B-frame whose reference lies beyond it.
    assert fraction * 50 - 6 <= len(back) <= fraction * 50
    assert [p.frame_index for p in back] == list(range(len(back)))
    times = [p.timestamp for p in back]
    assert times[0] == pytest.approx(1.5) and times == sorted(set(times))
    for packet in back:  # each frame is the one the complete file has at that time, decoded the same way
        np.testing.assert_array_equal(packet.image, complete[packet.timestamp])


WRITE_AND_WAIT = """
import sys
import numpy as np
from videoanalyst.core import FramePacket, StreamInfo
from videoanalyst.sinks.annotated_video import AnnotatedVideoSink

folder, fragment_seconds, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sink = AnnotatedVideoSink(folder, fragment_seconds=None if fragment_seconds == "None" else float(fragment_seconds))
sink.reset(StreamInfo("walk", 64, 48, fps=25.0))
for index in range(count):
    sink.process(FramePacket("walk", index, index / 25, np.full((48, 64, 3), 20 + 4 * index, np.uint8)))
print("written", flush=True)
sys.stdin.read()  # wait for the kill, without closing the sink
"""


def write_and_kill(folder, fragment_seconds: float | None, count: int) -> None:
    """Writes `count` frames through the sink in a child process, then kills it with SIGKILL: close() never runs."""
    child = subprocess.Popen([sys.executable, "-c", WRITE_AND_WAIT, str(folder), str(fragment_seconds), str(count)],
                             cwd=Path(__file__).parents[2], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready and child.stdout.readline() == "written\n", "the child did not write its frames"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL


def test_a_run_killed_without_close_keeps_all_but_the_last_second(tmp_path):
    """At most one fragment (13 frames at 0.5 s) plus the frames inside x264 (11 at veryfast) are lost: < 1 s."""
    write_and_kill(tmp_path, 0.5, count=50)
    back = read_back(tmp_path)
    indices = [round(p.timestamp * FPS) for p in back]
    assert indices[0] == 0 and indices == sorted(set(indices))
    assert indices[-1] >= 50 - 1 - FPS
    assert [p.timestamp for p in back] == pytest.approx([i / FPS for i in indices], abs=1e-6)
    assert [int(np.median(p.image)) for p in back] == pytest.approx([20 + 4 * i for i in indices], abs=1)


def test_a_classic_mp4_killed_without_close_is_one_clear_error(tmp_path):
    write_and_kill(tmp_path, None, count=50)
    with pytest.raises(InputError, match=r"walk.mp4: the mp4 was cut before it was finished .*: its index \(moov "
                                         r"box\) is missing or cut short, and nothing in it can be decoded$"):
        read_back(tmp_path)


@pytest.mark.parametrize("seconds", [0, -0.5])
def test_fragment_seconds_must_be_positive(tmp_path, seconds):
    with pytest.raises(ConfigError, match=f"fragment_seconds must be > 0 .*got {seconds}"):
        AnnotatedVideoSink(str(tmp_path), fragment_seconds=seconds)
