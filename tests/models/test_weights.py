"""Weights files: the cache folder, md5 checks, the message when a file is absent."""

from __future__ import annotations

import hashlib

import pytest

from videoanalyst.errors import InputError
from videoanalyst.models.weights import WeightsFile, find_weights, md5_in_name, user_weights, weights_cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOANALYST_WEIGHTS", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _named(folder, content: bytes, stem: str = "siamfcpp-alexnet-vot") -> str:
    return f"{stem}-md5_{hashlib.md5(content).hexdigest()}.pkl"


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("VIDEOANALYST_WEIGHTS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert weights_cache() == tmp_path / "videoanalyst" / "weights"


def test_md5_is_read_from_official_names():
    assert md5_in_name("siamfcpp-alexnet-vot-md5_88e4e9ee476545b952b04ae80c480f08.pkl") == (
        "88e4e9ee476545b952b04ae80c480f08"
    )
    assert md5_in_name("my_weights.pt") is None


def test_cached_file_is_found_and_checked(cache):
    content = b"weights"
    spec = WeightsFile(_named(cache, content), folder="siamfcpp", url="https://example.invalid/zoo")
    assert find_weights(spec) is None
    assert str(cache / "siamfcpp" / spec.file) in spec.absent_message()
    assert "https://example.invalid/zoo" in spec.absent_message()
    spec.cached_path.parent.mkdir(parents=True)
    spec.cached_path.write_bytes(content)
    assert find_weights(spec) == spec.cached_path
    spec.cached_path.write_bytes(b"truncated")
    with pytest.raises(InputError, match="does not match the expected"):
        find_weights(spec)


def test_explicit_md5_wins_over_the_name(cache):
    spec = WeightsFile("plain.pt", md5=hashlib.md5(b"x").hexdigest())
    spec.cached_path.parent.mkdir(parents=True)
    spec.cached_path.write_bytes(b"y")
    with pytest.raises(InputError, match="plain.pt: md5"):
        find_weights(spec)


def test_user_named_files(tmp_path):
    with pytest.raises(InputError, match="no such weights file"):
        user_weights(tmp_path / "absent.pkl")
    good = tmp_path / _named(tmp_path, b"abc")
    good.write_bytes(b"abc")
    assert user_weights(good) == good
    bad = tmp_path / _named(tmp_path, b"abc", stem="other")
    bad.write_bytes(b"abd")
    with pytest.raises(InputError, match="does not match"):
        user_weights(bad)


def test_export_half_names_the_file_by_its_md5(tmp_path):
    import torch

    from videoanalyst.models.siamfcpp import siamfcpp_alexnet
    from videoanalyst.models.weights import export_half

    network = siamfcpp_alexnet()
    torch.save(network.state_dict(), tmp_path / "final.pt")
    path = export_half(tmp_path / "final.pt", tmp_path / "out", "demo")
    assert path.name == f"demo-md5_{md5_in_name(path.name)}.pt" and user_weights(path) == path
    state = torch.load(path, weights_only=True)
    assert state["backbone.conv1.conv.weight"].dtype == torch.float16
    assert not list((tmp_path / "out").glob("*.partial"))


def test_export_half_keeps_batch_norm_statistics_beyond_fp16_in_fp32(tmp_path):
    """A running variance above 65504 (fp16's largest number) is normal on 0-255 input; in fp16 it would be inf,
    which zeroes the feature at inference (the first demo weights lost their box regression to this)."""
    import torch

    from videoanalyst.models.siamfcpp import load_checkpoint, siamfcpp_alexnet
    from videoanalyst.models.weights import export_half

    network = siamfcpp_alexnet()
    network.head.reg_tower[2].bn.running_var.fill_(7.4e5)
    torch.save(network.state_dict(), tmp_path / "final.pt")
    state = torch.load(export_half(tmp_path / "final.pt", tmp_path / "out", "demo"), weights_only=True)
    assert state["head.reg_tower.2.bn.running_var"].dtype == torch.float32
    assert state["head.reg_tower.2.bn.weight"].dtype == torch.float16
    loaded = siamfcpp_alexnet()
    load_checkpoint(loaded, next((tmp_path / "out").glob("demo-md5_*.pt")))
    assert torch.equal(loaded.head.reg_tower[2].bn.running_var, network.head.reg_tower[2].bn.running_var)


def test_export_half_refuses_a_weight_beyond_fp16_naming_it(tmp_path):
    import torch

    from videoanalyst.models.siamfcpp import siamfcpp_alexnet
    from videoanalyst.models.weights import export_half

    network = siamfcpp_alexnet()
    with torch.no_grad():
        network.head.offset_bias.fill_(1e6)
    torch.save(network.state_dict(), tmp_path / "final.pt")
    with pytest.raises(ValueError, match="head.offset_bias"):
        export_half(tmp_path / "final.pt", tmp_path / "out", "demo")
