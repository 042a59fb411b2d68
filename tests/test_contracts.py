"""Conventions that hold across every registered part and every shipped pipeline file."""

import inspect
import typing
from pathlib import Path

import pytest

from videoanalyst.core import Sink, Source, Stage
from videoanalyst.pipeline.config import INJECTED, constructor_parameters, load_pipeline
from videoanalyst.pipeline.registry import REGISTRY, resolve

ENTRIES = [(role, name) for role, table in REGISTRY.items() for name in table]
PIPELINES = sorted((Path(__file__).parents[1] / "pipelines").glob("*.yaml"))
BASES = {"source": Source, "stage": Stage, "sink": Sink}


@pytest.mark.parametrize("role, name", ENTRIES)
def test_registry_key_is_the_module_name(role, name):
    module_path, _, _ = REGISTRY[role][name].partition(":")
    assert module_path.rsplit(".", 1)[1] == name


@pytest.mark.parametrize("role, name", ENTRIES)
def test_every_setting_is_typed_defaulted_and_documented(role, name):
    cls = resolve(role, name)
    assert issubclass(cls, BASES[role])
    hints = typing.get_type_hints(cls.__init__)
    doc = inspect.getdoc(cls) or ""
    assert "Args:" in doc, f"{cls.__name__} documents no Args"
    for parameter in constructor_parameters(cls):
        assert parameter in hints, f"{cls.__name__}.{parameter} has no type hint"
        assert f"{parameter}:" in doc or f"{parameter}," in doc, f"{cls.__name__} does not document {parameter}"
    injected = INJECTED.get(role, ())
    assert all(p in constructor_parameters(cls) for p in injected)


def test_every_shipped_pipeline_is_valid_and_takes_path_and_output():
    assert PIPELINES, "no pipeline files shipped"
    for path in PIPELINES:
        config = load_pipeline(path, ["source.path=somewhere", "output=elsewhere"])
        assert config.source.kwargs["path"] == "somewhere"
        assert config.settings.output == "elsewhere"
