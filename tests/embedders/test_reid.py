"""The `reid` stage: embeddings row-aligned with the boxes, batched over frames and streams; frames without
detections untouched; the warning without weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, FramePacket
from videoanalyst.embedders.reid import Reid
from videoanalyst.errors import ConfigError
from videoanalyst.models.reid import ReidNet

SMALL = {"backbone": "resnet18", "crop_height": 64, "crop_width": 32, "device": "cpu"}


def _packet(stream, index, seed, boxes=None):
    image = np.random.default_rng(seed).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    packet = FramePacket(stream, index, index / 25, image)
    if boxes is not None:
        packet.outputs[DETECTIONS] = Detections(np.asarray(boxes, np.float32).reshape(-1, 4),
                                                scores=np.linspace(0.5, 1, len(boxes)),
                                                track_ids=np.arange(len(boxes)) + 7)
    return packet


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("reid") / "reid.pt"
    torch.save(ReidNet(backbone="resnet18").state_dict(), path)
    return path


def test_embeddings_are_row_aligned_with_the_boxes_across_frames_and_streams(weights):
    stage = Reid(weights=str(weights), max_batch=2, **SMALL)
    packets = [
        _packet("a", 0, 1, [[0, 0, 30, 60], [40, 10, 100, 85], [5, 50, 25, 89]]),
        _packet("b", 0, 2, [[60, 0, 119, 40]]),
        _packet("a", 1, 3),  # no detections: untouched
        _packet("b", 1, 4, []),
        _packet("a", 2, 5, [[10, 10, 70, 80], [0, 30, 50, 60]]),
    ]
    before = {id(p): p.outputs.get(DETECTIONS) for p in packets}
    stage.process_batch(packets)
    assert DETECTIONS not in packets[2].outputs
    assert packets[3].outputs[DETECTIONS].embeddings.shape == (0, 128)
    for packet in (packets[0], packets[1], packets[4]):
        old, new = before[id(packet)], packet.outputs[DETECTIONS]
        assert np.array_equal(new.xyxy, old.xyxy) and np.array_equal(new.track_ids, old.track_ids)
        assert np.array_equal(new.scores, old.scores)
        assert new.embeddings.shape == (len(old), 128) and new.embeddings.dtype == np.float32
        for row, box in zip(new.embeddings, old.xyxy):  # each box alone, as the only crop of its forward
            alone = stage.network.embed(packet.tensor(), torch.from_numpy(box[None]))[0].numpy()
            np.testing.assert_allclose(row, alone, atol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(new.embeddings, axis=1), 1, atol=1e-5)


def test_process_of_one_frame_equals_the_batch(weights):
    stage = Reid(weights=str(weights), **SMALL)
    one, batch = _packet("a", 0, 1, [[0, 0, 30, 60], [40, 10, 100, 85]]), _packet("a", 0, 1, [[0, 0, 30, 60]])
    stage.process(one)
    stage.process_batch([batch])
    np.testing.assert_allclose(one.outputs[DETECTIONS].embeddings[:1], batch.outputs[DETECTIONS].embeddings,
                               atol=1e-5)


def test_random_weights_warn_in_one_line(capsys):
    Reid(**SMALL)
    err = capsys.readouterr().err
    assert err == "warning: reid: no weights given; random weights give meaningless embeddings\n"


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="max_batch must be >= 1"):
        Reid(max_batch=0, **{**SMALL})
    with pytest.raises(ConfigError, match=r"reid: device: expected a device, auto, cpu, cuda or cuda:N; got .gpu:x."):
        Reid(**{**SMALL, "device": "gpu:x"})
