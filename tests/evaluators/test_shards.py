"""Sharding over torchrun's processes: the environment read, the round-robin split, the device each process takes,
and a process group of one joined and left."""

import socket

import pytest
import torch.distributed as dist

from videoanalyst.errors import ConfigError
from videoanalyst.evaluators.shards import Shard, process_group, shard_from_environment, wait_for_all


def _launcher(rank=0, world_size=1, local_rank=0, port=29500):
    """The variables torchrun sets (torch/distributed/run.py)."""
    return {
        "RANK": str(rank),
        "WORLD_SIZE": str(world_size),
        "LOCAL_RANK": str(local_rank),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
    }


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_launcher_variables_is_a_single_process():
    assert shard_from_environment({"PATH": "/bin"}) is None
    assert Shard() == Shard(rank=0, world_size=1, local_rank=0)


def test_reads_torchruns_variables():
    assert shard_from_environment(_launcher(2, 4, 0)) == Shard(2, 4, 0)


@pytest.mark.parametrize(
    "environ, named",
    [
        ({"RANK": "0", "WORLD_SIZE": "2"}, "LOCAL_RANK, MASTER_ADDR, MASTER_PORT"),
        ({**_launcher(), "RANK": "one"}, "RANK='one'"),
        (_launcher(rank=2, world_size=2), "RANK='2'"),
        (_launcher(local_rank=-1), "LOCAL_RANK='-1'"),
    ],
)
def test_bad_launcher_variables_are_named(environ, named):
    with pytest.raises(ConfigError, match=named):
        shard_from_environment(environ)


def test_round_robin_gives_each_item_to_exactly_one_process():
    items = [f"seq-{i}" for i in range(10)]
    assert Shard(1, 3).pick(items) == ["seq-1", "seq-4", "seq-7"]
    for world_size in (1, 2, 3, 4, 11):
        picks = [Shard(rank, world_size).pick(items) for rank in range(world_size)]
        assert sorted(sum(picks, [])) == sorted(items)
        assert sum(len(p) for p in picks) == len(items)


def test_device_and_label():
    assert Shard(3, 4, local_rank=1).device("cuda") == "cuda:1"
    assert Shard(3, 4, local_rank=1).device("cuda:0") == "cuda:0"
    assert Shard(3, 4, local_rank=1).device("cpu") == "cpu"
    assert Shard(3, 4).label == "rank 3/4: " and Shard().label == ""
    assert Shard().is_main and not Shard(1, 2).is_main


def test_without_torchrun_no_group_is_joined(monkeypatch):
    for name in _launcher():
        monkeypatch.delenv(name, raising=False)
    with process_group("cpu") as shard:
        assert shard == Shard()
        assert not dist.is_initialized()
        wait_for_all()


def test_a_group_of_one_is_joined_with_gloo_and_left_even_on_error(monkeypatch):
    for name, value in _launcher(port=_free_port()).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="inside"):
        with process_group("cpu") as shard:
            assert shard == Shard(0, 1, 0)
            assert dist.is_initialized() and dist.get_backend() == "gloo"
            wait_for_all()
            raise RuntimeError("inside")
    assert not dist.is_initialized()
