"""Loading SiamFC++ checkpoints: official files as video_analyst saves them, ours, and the wrong ones."""

from __future__ import annotations

import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from videoanalyst.errors import InputError
from videoanalyst.models.siamfcpp import (
    load_checkpoint,
    official_to_ours,
    ours_to_official,
    siamfcpp_alexnet,
    siamfcpp_googlenet,
)
from videoanalyst.models.siamfcpp.random_weights import randomize_


def _save_official(network, path, wrap: str | None = None, half: bool = False):
    """Save the way video_analyst does: an OrderedDict of its key names, `torch.save`d (optionally a trainer
    snapshot's `model_state_dict` wrapper)."""
    state = OrderedDict(
        (ours_to_official(k), v.half() if half and v.is_floating_point() else v)
        for k, v in network.state_dict().items()
    )
    torch.save({wrap: state, "epoch": 19} if wrap else state, path)


@pytest.mark.parametrize("builder", [siamfcpp_alexnet, siamfcpp_googlenet])
@pytest.mark.parametrize("wrap", [None, "model_state_dict"])
def test_official_checkpoint_loads_exactly(tmp_path, builder, wrap):
    source = randomize_(builder(), seed=5)
    path = tmp_path / "siamfcpp-official.pkl"
    _save_official(source, path, wrap)
    target = builder()
    load_checkpoint(target, path)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key


def test_our_own_and_fp16_checkpoints_load(tmp_path):
    source = randomize_(siamfcpp_alexnet(), seed=6)
    torch.save(source.state_dict(), tmp_path / "ours.pt")
    torch.save(
        {k: v.half() if v.is_floating_point() else v for k, v in source.state_dict().items()}, tmp_path / "half.pt"
    )
    exact, half = siamfcpp_alexnet(), siamfcpp_alexnet()
    load_checkpoint(exact, tmp_path / "ours.pt")
    load_checkpoint(half, tmp_path / "half.pt")
    weight = source.backbone.conv1.conv.weight
    assert torch.equal(exact.backbone.conv1.conv.weight, weight)
    assert half.backbone.conv1.conv.weight.dtype == torch.float32
    torch.testing.assert_close(half.backbone.conv1.conv.weight, weight, rtol=1e-3, atol=1e-4)


def test_checkpoint_of_another_model_is_refused_with_what_differs(tmp_path):
    path = tmp_path / "googlenet.pkl"
    _save_official(siamfcpp_googlenet(), path)
    with pytest.raises(InputError) as caught:
        load_checkpoint(siamfcpp_alexnet(), path, model_name="siamfcpp_alexnet")
    message = str(caught.value)
    assert str(path) in message and "not a checkpoint of siamfcpp_alexnet" in message
    assert "missing (" in message and "backbone.conv1" in message
    assert "unexpected (" in message and "backbone.Mixed_5b" in message


def test_shape_mismatch_is_named(tmp_path):
    state = siamfcpp_alexnet().state_dict()
    state["head.cls_score.conv.weight"] = torch.zeros(2, 256, 1, 1)
    torch.save(state, tmp_path / "other.pt")
    with pytest.raises(
        InputError, match=r"shape differs \(1\): head.cls_score.conv.weight \(2, 256, 1, 1\) != \(1, 256, 1, 1\)"
    ):
        load_checkpoint(siamfcpp_alexnet(), tmp_path / "other.pt")


def test_a_checkpoint_with_infinite_values_is_refused_naming_the_tensor(tmp_path):
    state = siamfcpp_alexnet().state_dict()
    state["head.reg_tower.2.bn.running_var"] = state["head.reg_tower.2.bn.running_var"].half().fill_(float("inf"))
    path = tmp_path / "broken.pt"
    torch.save(state, path)
    with pytest.raises(InputError, match=r"broken\.pt: 1 tensor\(s\) hold NaN or infinite .*reg_tower\.2\.bn\.running_var"):
        load_checkpoint(siamfcpp_alexnet(), path)


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    broken = tmp_path / "broken.pkl"
    broken.write_bytes(b"\x80\x02not a checkpoint")
    with pytest.raises(InputError, match="broken.pkl: not a PyTorch checkpoint, or a damaged one"):
        load_checkpoint(siamfcpp_alexnet(), broken)
    with pytest.raises(InputError, match="absent.pkl: no such checkpoint file"):
        load_checkpoint(siamfcpp_alexnet(), tmp_path / "absent.pkl")


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_code_in_a_checkpoint_is_refused(tmp_path):
    """weights_only=True: a pickle that would call a function is not executed."""

    class Payload:
        def __reduce__(self):
            return (print, ("executed",))

    path = tmp_path / "evil.pkl"
    with open(path, "wb") as handle:
        pickle.dump({"model_state_dict": Payload()}, handle, protocol=2)  # torch.save's protocol
    # torch 2.5 names the object builtins.print, later releases print
    with pytest.raises(InputError, match=r"evil.pkl: not a checkpoint of tensors alone: it holds the Python object "
                       r"(builtins\.)?print;") as refused:
        load_checkpoint(siamfcpp_alexnet(), path)
    assert "weights_only" not in str(refused.value) and "\n" not in str(refused.value)


def test_random_bytes_are_no_checkpoint_and_the_message_never_suggests_weights_only_false(tmp_path):
    """torch's own message advises loading with weights_only=False, which would run the file's code: never repeat
    it; say the file is not a checkpoint, in one line."""
    path = tmp_path / "random.pkl"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(InputError, match="random.pkl: not a PyTorch checkpoint, or a damaged one") as refused:
        load_checkpoint(siamfcpp_alexnet(), path)
    assert "weights_only" not in str(refused.value) and "\n" not in str(refused.value)


def test_key_mapping_round_trips_and_covers_every_renamed_part():
    pairs = {
        "basemodel.conv1.conv.weight": "backbone.conv1.conv.weight",
        "head.cls_p5_conv3.bn.running_var": "head.cls_tower.2.bn.running_var",
        "head.bbox_p5_conv1.conv.bias": "head.reg_tower.0.conv.bias",
        "head.bbox_offsets_p5.conv.weight": "head.box_offsets.conv.weight",
        "head.si": "head.offset_scale",
        "head.bi": "head.offset_bias",
        "c_z_k.conv.weight": "template_cls.conv.weight",
        "r_x.bn.bias": "search_reg.bn.bias",
    }
    for official, ours in pairs.items():
        assert official_to_ours(official) == ours
        assert ours_to_official(ours) == official
