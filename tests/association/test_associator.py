"""The contract every associator keeps, checked over all of them: the same errors for bad input, the same meaning
of skipped and empty frames, ids from 1 in every stream."""

import numpy as np
import pytest

from videoanalyst.association.associator import Associator, associate
from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.core.stage import StreamInfo
from videoanalyst.errors import InputError
from videoanalyst.pipeline.registry import REGISTRY, resolve

ASSOCIATORS = sorted(name for name in REGISTRY["stage"] if issubclass(resolve("stage", name), Associator))
BOX_ONLY = [name for name in ASSOCIATORS if name != "tracktor"]  # tracktor regresses boxes on the pixels


def _build(name):
    if name == "tracktor":
        return resolve("stage", name)(detector_weights=None, min_size=64, max_size=96, device="cpu")
    return resolve("stage", name)()


def _box(x, y=60.0):
    """One confident 40x80 box with an appearance feature (DeepSORT needs one)."""
    return Detections(xyxy=[[x, y, x + 40, y + 80]], scores=[0.95], class_ids=[1], embeddings=[[1.0, 0.0, 0.0, 0.0]])


def test_every_associator_is_registered_under_its_module_name():
    assert set(ASSOCIATORS) == {"sort", "deep_sort", "byte_track", "oc_sort", "tracktor"}


@pytest.mark.parametrize("name", ASSOCIATORS)
def test_an_image_size_that_changes_mid_stream_is_refused_naming_the_frame(name):
    stage = _build(name)
    stage.reset(StreamInfo("cam", 320, 240))
    stage.process(FramePacket("cam", 0, 0.0, np.zeros((240, 320, 3), np.uint8)))
    with pytest.raises(InputError, match=r"frame 1 of 'cam' is 160x120, earlier frames were 320x240"):
        stage.process(FramePacket("cam", 1, 0.04, np.zeros((120, 160, 3), np.uint8)))


@pytest.mark.parametrize("name", ASSOCIATORS)
def test_nan_boxes_and_foreign_outputs_are_refused_naming_the_frame(name):
    stage = _build(name)
    stage.reset(StreamInfo("cam", 320, 240))
    packet = FramePacket("cam", 3, 0.0, np.zeros((240, 320, 3), np.uint8))
    packet.outputs[DETECTIONS] = Detections(xyxy=[[0.0, 0.0, np.nan, 10.0]], embeddings=[[1.0, 0.0, 0.0, 0.0]])
    with pytest.raises(InputError, match="frame 3 of 'cam' has 1 detection.* NaN or infinite"):
        stage.process(packet)
    packet.outputs[DETECTIONS] = [[0, 0, 10, 10]]
    with pytest.raises(InputError, match="frame 3 of 'cam' carries list .*expected Detections"):
        stage.process(packet)


@pytest.mark.parametrize("name", BOX_ONLY)
def test_a_steady_object_keeps_id_1_through_skipped_frames_and_restarts_at_1_per_stream(name):
    frames = [_box(50.0 + 4 * k) for k in range(8)]
    frames[5] = None  # the detector skipped this frame: the track is predicted, not missed
    for stream in ("a", "b"):
        outputs = list(associate(_build(name), frames, 320, 240, stream))
        assert outputs[5].track_ids.tolist() == [1]
        assert outputs[5].xyxy[0, 0] > outputs[4].xyxy[0, 0]  # predicted forward, with the motion seen so far
        assert outputs[-1].track_ids.tolist() == [1]


@pytest.mark.parametrize("name", BOX_ONLY)
def test_empty_frames_report_nothing_new_and_end_tracks_eventually(name):
    frames = [_box(50.0)] * 5 + [Detections.empty()] * 40 + [_box(200.0)] * 5
    outputs = list(associate(_build(name), frames, 320, 240))
    assert all(len(out) == 0 for out in outputs[15:45])  # nothing seen, nothing reported after the first misses
    assert set(outputs[-1].track_ids.tolist()) == {2}  # the first track ended; the new object gets a new id
