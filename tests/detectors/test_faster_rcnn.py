"""The Faster R-CNN stage: class and score filtering, every N-th frame, batches equal to single frames."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from videoanalyst.core import FramePacket
from videoanalyst.core.packet import DETECTIONS
from videoanalyst.detectors import faster_rcnn as stage_module
from videoanalyst.detectors.faster_rcnn import FasterRcnn
from videoanalyst.errors import ConfigError
from videoanalyst.pipeline.config import load_pipeline
from videoanalyst.pipeline.runner import Pipeline


class CraftedModel:
    """Stands in for the network: records the images of each call and returns the same crafted boxes for each."""

    roi_heads = SimpleNamespace(score_thresh=0.05)

    def __init__(self, boxes, scores, labels):
        self.output = {"boxes": torch.tensor(boxes, dtype=torch.float32), "scores": torch.tensor(scores),
                       "labels": torch.tensor(labels)}
        self.calls: list[list[torch.Tensor]] = []

    def to(self, device):
        return self

    def __call__(self, images):
        self.calls.append(images)
        return [self.output for _ in images]


BOXES = [[1, 2, 30, 40], [5, 5, 9, 9], [10, 10, 20, 30], [0.5, 1.5, 2.5, 3.5]]


def stage(**settings):
    return FasterRcnn(**{"weights": None, "device": "cpu", "min_size": 96, "max_size": 128, **settings})


def packet(index, seed=0, size=(90, 120), stream="s"):
    image = np.random.default_rng([seed, index]).integers(0, 256, (*size, 3), dtype=np.uint8)
    return FramePacket(stream, index, index / 25, image)


@pytest.fixture(scope="module")
def crafted_stage():
    """One stage built with random weights (building is the slow part), its network swapped per test."""
    return stage(score_threshold=0.5)


def test_keeps_boxes_of_the_chosen_classes_scoring_above_the_threshold(crafted_stage):
    model = crafted_stage.model = CraftedModel(BOXES, [0.9, 0.5, 0.51, 0.95], [1, 1, 3, 1])
    frame = packet(0)
    crafted_stage.process(frame)
    found = frame.outputs[DETECTIONS]
    np.testing.assert_array_equal(found.xyxy, np.float32([BOXES[0], BOXES[3]]))  # 0.5 is not above 0.5; 3 is a car
    np.testing.assert_array_equal(found.scores, np.float32([0.9, 0.95]))
    assert found.class_ids.tolist() == [1, 1] and found.track_ids.tolist() == [-1, -1]
    assert found.xyxy.dtype == found.scores.dtype == np.float32
    (image,) = model.calls[0]  # the network gets RGB floats in 0..1, channels first, as torchvision expects
    torch.testing.assert_close(image, torch.from_numpy(frame.image).permute(2, 0, 1).float() / 255)
    crafted_stage.class_ids = None  # classes=None: every class
    crafted_stage.process(frame := packet(1))
    assert frame.outputs[DETECTIONS].class_ids.tolist() == [1, 3, 1]


def test_classes_by_name_or_id_and_threshold_reach_the_network():
    both = stage(classes=["car", 1], score_threshold=0.3)
    assert both.class_ids.tolist() == [3, 1]
    assert both.model.roi_heads.score_thresh == 0.3  # so thresholds below torchvision's 0.05 keep their boxes
    both.model = CraftedModel(BOXES, [0.9, 0.2, 0.31, 0.95], [1, 1, 3, 2])
    both.process(frame := packet(0))
    np.testing.assert_array_equal(frame.outputs[DETECTIONS].xyxy, np.float32(BOXES[:1] + BOXES[2:3]))


def test_every_third_frame_is_detected_in_one_forward(crafted_stage):
    crafted_stage.every = 3
    model = crafted_stage.model = CraftedModel(BOXES[:1], [0.9], [1])
    frames = [packet(i) for i in range(8)]
    crafted_stage.process_batch(frames[:7])
    crafted_stage.process_batch(frames[7:])
    assert [i for i, f in enumerate(frames) if DETECTIONS in f.outputs] == [0, 3, 6]
    assert [len(images) for images in model.calls] == [3]  # frame 7 needs none: no forward at all
    crafted_stage.every = 1


def test_frames_of_different_sizes_go_through_separate_forwards(crafted_stage):
    model = crafted_stage.model = CraftedModel(BOXES[:1], [0.9], [1])
    crafted_stage.process_batch([packet(0), packet(0, size=(60, 80), stream="b"), packet(1), packet(2)])
    assert sorted(len(images) for images in model.calls) == [1, 3]


def test_a_batch_of_four_frames_equals_four_single_frames():
    detector = stage(score_threshold=0.0, classes=None)
    detector.model.rpn._pre_nms_top_n["testing"] = detector.model.rpn._post_nms_top_n["testing"] = 100  # faster
    batch, single = [packet(i, seed=3) for i in range(4)], [packet(i, seed=3) for i in range(4)]
    detector.process_batch(batch)
    for frame in single:
        detector.process(frame)
    for a, b in zip(batch, single):
        a, b = a.outputs[DETECTIONS], b.outputs[DETECTIONS]
        assert len(a) == len(b) > 0
        np.testing.assert_allclose(a.xyxy, b.xyxy, atol=1e-2)
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)  # batched convolutions round differently
        np.testing.assert_array_equal(a.class_ids, b.class_ids)


def test_bad_settings_are_named():
    with pytest.raises(ConfigError, match="every must be >= 1"):
        stage(every=0)
    with pytest.raises(ConfigError, match="unknown COCO class 'pedestrian'"):
        stage(classes=["pedestrian"])
    with pytest.raises(ConfigError, match=r"faster_rcnn: device: expected a device, auto, cpu, cuda or cuda:N; got 'gpu'"):
        stage(device="gpu")


def test_one_instance_serves_every_stream_of_a_pipeline(monkeypatch, counting_source):
    """Built from YAML keys, shared by two streams, frames of both streams batched together, every 2nd detected."""
    model = CraftedModel(BOXES[:1], [0.9], [1])
    monkeypatch.setattr(stage_module, "build_faster_rcnn", lambda *args, **kwargs: model)
    config = load_pipeline({"source": {"type": "synthetic"},
                            "stages": [{"type": "faster_rcnn", "weights": None, "every": 2, "device": "cpu"}]})
    built = []
    pipeline = Pipeline(counting_source({"a": 5, "b": 4}), [lambda: built.append(config.stages[0].factory()())
                                                            or built[-1]], batch_size=3, max_streams=2, progress=False)
    pipeline.run()
    assert len(built) == 1
    # the counting source writes the frame index into pixel (0, 0) and the stream number into pixel (0, 1)
    frames = [[(round(float(image[0, 0, 1]) * 255), round(float(image[0, 0, 0]) * 255)) for image in images]
              for images in model.calls]
    assert frames == [[(0, 0), (0, 2), (1, 0), (1, 2)], [(0, 4)]]
