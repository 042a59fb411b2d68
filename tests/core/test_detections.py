import numpy as np
import pytest

from videoanalyst.core import Detections, FramePacket, TargetState


def make(n=4):
    return Detections(
        xyxy=np.arange(n * 4).reshape(n, 4),
        scores=np.linspace(0.1, 0.9, n),
        class_ids=np.arange(n) % 2,
        track_ids=np.arange(n) + 10,
        embeddings=np.eye(n, 3),
        extra={"visibility": np.linspace(0, 1, n)},
    )


def test_defaults_and_dtypes():
    dets = Detections(xyxy=[[0, 0, 10, 10], [5, 5, 20, 30]])
    assert dets.xyxy.dtype == np.float32 and dets.xyxy.shape == (2, 4)
    assert dets.scores.tolist() == [1.0, 1.0]
    assert dets.class_ids.tolist() == [0, 0] and dets.class_ids.dtype == np.int64
    assert dets.track_ids.tolist() == [-1, -1]
    assert len(Detections.empty()) == 0 and Detections(xyxy=[]).xyxy.shape == (0, 4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"xyxy": np.zeros((3, 5))}, "xyxy must have shape"),
        ({"xyxy": np.zeros((3, 4)), "scores": np.zeros(2)}, "scores must have shape"),
        ({"xyxy": np.zeros((3, 4)), "embeddings": np.zeros((2, 8))}, "embeddings must have shape"),
        ({"xyxy": np.zeros((3, 4)), "extra": {"v": np.zeros(4)}}, "extra\\['v'\\] must have 3 rows"),
    ],
)
def test_validation_names_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Detections(**kwargs)


def test_mask_index_and_int_selection_keep_every_field_aligned():
    dets = make()
    picked = dets[dets.scores > 0.5]
    assert len(picked) == 2
    assert picked.track_ids.tolist() == [12, 13]
    np.testing.assert_array_equal(picked.embeddings, dets.embeddings[2:])
    np.testing.assert_array_equal(picked.extra["visibility"], dets.extra["visibility"][2:])
    single = dets[1]
    assert len(single) == 1 and single.track_ids.tolist() == [11]
    assert dets[[3, 0]].track_ids.tolist() == [13, 10]


def test_replace_and_concatenate():
    dets = make(3)
    tracked = dets.replace(track_ids=np.array([1, 2, 3]))
    assert tracked.track_ids.tolist() == [1, 2, 3] and dets.track_ids.tolist() == [10, 11, 12]
    both = Detections.concatenate([dets, Detections(xyxy=[[1, 1, 2, 2]], extra={"visibility": [0.5]})])
    assert len(both) == 4
    assert both.embeddings is None  # the second part has none
    assert both.extra["visibility"].tolist()[-1] == 0.5
    assert len(Detections.concatenate([])) == 0


def test_target_state_conversions():
    state = TargetState.from_xywh([10, 20, 30, 40], score=0.7)
    assert state.xyxy.tolist() == [10, 20, 40, 60]
    assert state.xywh.tolist() == [10, 20, 30, 40]
    rotated = TargetState.from_polygon([0, 5, 5, 0, 10, 5, 5, 10])
    assert rotated.xyxy.tolist() == [0, 0, 10, 10] and rotated.polygon.shape == (4, 2)
    with pytest.raises(ValueError, match="4 values"):
        TargetState([1, 2, 3])


def test_packet_image_is_shared_read_only_and_tensor_converts_once():
    image = np.zeros((4, 6, 3), np.uint8)
    image[..., 0] = 200  # red
    packet = FramePacket("s", 0, 0.0, image)
    with pytest.raises(ValueError):
        packet.image[0, 0, 0] = 1
    rgb = packet.tensor()
    assert rgb.shape == (3, 4, 6) and int(rgb[0, 0, 0]) == 200
    assert packet.tensor() is rgb  # cached: converted once per packet
    bgr = packet.tensor(order="bgr")
    assert int(bgr[2, 0, 0]) == 200 and int(bgr[0, 0, 0]) == 0
    assert rgb.data_ptr() == packet.image.ctypes.data  # the CPU tensor shares the decoded image, no copy
    with pytest.raises(ValueError, match="uint8 RGB"):
        FramePacket("s", 0, 0.0, np.zeros((4, 6), np.uint8))
