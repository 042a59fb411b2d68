"""AnnotatedVideoSink: the written clip reads back frame-exact through VideoSource, with the boxes where they belong."""

from __future__ import annotations

import numpy as np
import pytest

from videoanalyst.core import FramePacket, StreamInfo
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, TARGET
from videoanalyst.core.target_state import TargetState
from videoanalyst.errors import ConfigError
from videoanalyst.sinks.annotated_video import AnnotatedVideoSink, Trails
from videoanalyst.sinks.drawing import annotate
from videoanalyst.sources.video import VideoSource

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
