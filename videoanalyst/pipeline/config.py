"""Pipeline YAML: load it, apply dotted overrides, check every key against the constructors, build the parts.

A pipeline file has `source` (one block), `stages` and `sinks` (lists of blocks) and run settings. A block is
`{type: <registry name>, **kwargs}` whose kwargs are exactly the constructor's arguments.
"""

from __future__ import annotations

import collections.abc
import copy
import dataclasses
import difflib
import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from videoanalyst.errors import ConfigError, VideoAnalystError
from videoanalyst.models.device import pick_device
from videoanalyst.pipeline.registry import Role, UnknownTypeError, resolve


@dataclasses.dataclass
class RunSettings:
    """The top-level settings of a pipeline file besides `source`, `stages` and `sinks`.

    Args:
        output: folder the sinks write into.
        max_streams: streams processed at once, interleaved frame by frame (1: one after another).
        batch_size: frames of a stream handed to each stage per call.
        device: where frames are uploaded once after decoding: "cuda", "cuda:N", "cpu" (a tensor on the host), "auto"
            (CUDA when there is a GPU, else the CPU); None keeps them as arrays on the host.
        profile_json: write the per-stage profile there as JSON; None: print it only.
        progress: show progress on stderr: a bar on a terminal, else a line every `progress_interval` seconds.
        progress_interval: seconds between two progress lines where stderr is not a terminal (CI logs, nohup, a
            pipe); 0: a line after every batch.
    """

    output: str = "runs/output"
    max_streams: int = 1
    batch_size: int = 1
    device: str | None = None
    profile_json: str | None = None
    progress: bool = True
    progress_interval: float = 30.0


@dataclasses.dataclass
class ComponentSpec:
    """One block of a pipeline file: the class it names, its checked kwargs, and where it was written."""

    type_name: str
    cls: type
    kwargs: dict[str, Any]
    where: str

    @property
    def name(self) -> str:
        return self.type_name.rpartition(":")[2]

    def factory(self, **injected: Any) -> Callable[[], Any]:
        """A zero-argument callable building a fresh instance; errors name the YAML key."""
        return functools.partial(_construct, self, {**injected, **self.kwargs})


@dataclasses.dataclass
class PipelineConfig:
    """A checked pipeline file."""

    source: ComponentSpec
    stages: list[ComponentSpec]
    sinks: list[ComponentSpec]
    settings: RunSettings


_BLOCK_KEYS = ("source", "stages", "sinks")


def load_pipeline(
    path: str | Path | Mapping[str, Any], overrides: list[str] | Mapping[str, Any] = (), label: str | None = None
) -> PipelineConfig:
    """Read a pipeline file (or a dict), apply `key.path=value` overrides and check it all.

    Args:
        label: what messages name the pipeline by (default: the file, or ``<pipeline dict>``); a command that
            builds its pipeline names itself.

    Raises:
        ConfigError: naming the file, the key and what is allowed.
    """
    if isinstance(path, Mapping):
        raw, label = copy.deepcopy(dict(path)), label or "<pipeline dict>"
    else:
        label = label or str(path)
        raw = read_yaml_mapping(Path(path), "pipeline", f"a mapping with keys {', '.join(_BLOCK_KEYS)}")
    for key, value in parse_overrides(overrides, label):
        _set_dotted(raw, key, value, label)
    return _check_pipeline(raw, label)


def read_yaml_mapping(path: Path, kind: str, expected: str) -> dict[str, Any]:
    """The mapping a YAML file holds; a ConfigError naming the file when it is missing, not YAML or not a mapping.

    Args:
        kind: what the file is, for the message ("pipeline", "experiment").
        expected: what the mapping should hold, for the message.
    """
    if not path.is_file():
        raise ConfigError(f"{path}: no such {kind} file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected {expected}, got {type(raw).__name__}")
    return raw


def yaml_description(path: Path) -> str:
    """The comment a YAML file starts with, as one line of text (what `--list` shows); empty without one."""
    lines = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            lines.append(line.lstrip("#").strip())
    return " ".join(line for line in lines if line)


def parse_overrides(overrides: list[str] | Mapping[str, Any], label: str) -> list[tuple[str, Any]]:
    """``key.path=value`` items as (key, value) pairs, each value read as YAML (``3``, ``0.1``, ``null``,
    ``[1, 2]``; text that is not YAML stays text); a mapping passes through."""
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    parsed = []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{label}: override {item!r} must look like key.path=value")
        try:
            value = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            value = text
        parsed.append((key.strip(), value))
    return parsed


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any, label: str) -> None:
    """Set `stages.0.jitter` or `stages.oracle_detector.jitter` (a list item by index or by its unique type)."""
    parts = dotted.split(".")
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            node = node[_list_index(node, part, where, label)]
        elif isinstance(node, dict):
            if part not in node and depth == 0 and part not in _BLOCK_KEYS:
                raise ConfigError(f"{label}: override {dotted!r}: no block {part!r}; blocks: {', '.join(_BLOCK_KEYS)}")
            node = node.setdefault(part, {})
        else:
            raise ConfigError(f"{label}: override {dotted!r}: {where} is a value, not a block")
    if isinstance(node, list):
        node[_list_index(node, parts[-1], dotted, label)] = value
    elif isinstance(node, dict):
        node[parts[-1]] = value
    else:
        raise ConfigError(f"{label}: override {dotted!r}: cannot set a key inside a value")


def _list_index(items: list[Any], part: str, where: str, label: str) -> int:
    if part.lstrip("-").isdigit():
        index = int(part)
        if not -len(items) <= index < len(items):
            raise ConfigError(f"{label}: override {where}: index {index} out of range (the list has {len(items)})")
        return index
    matches = [i for i, item in enumerate(items) if isinstance(item, dict) and item.get("type") == part]
    if len(matches) != 1:
        types_ = [item.get("type") for item in items if isinstance(item, dict)]
        raise ConfigError(f"{label}: override {where}: {part!r} must name exactly one block by index or type; "
                          f"blocks: {types_}")
    return matches[0]


def _check_pipeline(raw: dict[str, Any], label: str) -> PipelineConfig:
    setting_names = [f.name for f in dataclasses.fields(RunSettings)]
    for key in raw:
        if key not in _BLOCK_KEYS and key not in setting_names:
            raise ConfigError(f"{label}: unknown key {key!r}{suggest(key, [*_BLOCK_KEYS, *setting_names])}; "
                              f"allowed: {', '.join([*_BLOCK_KEYS, *setting_names])}")
    if "source" not in raw:
        raise ConfigError(f"{label}: missing key 'source' (a block such as {{type: video, path: clip.mp4}})")
    settings_raw = {k: v for k, v in raw.items() if k in setting_names}
    hints = typing.get_type_hints(RunSettings)
    settings = RunSettings(**{k: check_value(v, hints[k], f"{label}: {k}") for k, v in settings_raw.items()})
    for key in ("max_streams", "batch_size"):
        if getattr(settings, key) < 1:
            raise ConfigError(f"{label}: {key}: expected an int >= 1, got {getattr(settings, key)}")
    if settings.progress_interval < 0:
        raise ConfigError(f"{label}: progress_interval: expected seconds >= 0, got {settings.progress_interval}")
    if settings.device is not None:
        settings.device = str(pick_device(settings.device, f"{label}: device"))
    return PipelineConfig(
        source=_check_block("source", raw["source"], f"{label}: source"),
        stages=[
            _check_block("stage", b, f"{label}: stages[{i}]") for i, b in enumerate(_as_list(raw, "stages", label))
        ],
        sinks=[_check_block("sink", b, f"{label}: sinks[{i}]") for i, b in enumerate(_as_list(raw, "sinks", label))],
        settings=settings,
    )


def _as_list(raw: dict[str, Any], key: str, label: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise ConfigError(f"{label}: {key} must be a list of blocks, got {type(value).__name__}")
    return value


#: Constructor arguments the builder fills in itself rather than the YAML.
INJECTED = {"sink": ("output_dir",)}


def _check_block(role: Role, block: Any, where: str) -> ComponentSpec:
    if not isinstance(block, dict) or "type" not in block:
        raise ConfigError(f"{where}: expected a block with a 'type' key, got {block!r}")
    kwargs = dict(block)
    type_name = kwargs.pop("type")
    try:
        cls = resolve(role, str(type_name))
    except UnknownTypeError as error:
        raise ConfigError(f"{where}.type: {error}") from None
    injected = INJECTED.get(role, ())
    for name in injected:
        if name not in constructor_parameters(cls):
            raise ConfigError(f"{where}.type: {type_name} cannot be a {role}: its constructor takes no {name!r}")
    kwargs = check_arguments(cls, kwargs, where, str(type_name), injected)
    _check_device(cls, kwargs, where)
    return ComponentSpec(type_name=str(type_name), cls=cls, kwargs=kwargs, where=where)


def _check_device(cls: type, kwargs: dict[str, Any], where: str) -> None:
    """A block's `device` (set, or its constructor's default) checked now, as the run's: a GPU that is not there
    stops the run before any file is opened or frame read, not when the stage is built."""
    parameter = constructor_parameters(cls).get("device")
    if parameter is None:
        return
    device = kwargs.get("device", parameter.default)
    if isinstance(device, str):
        pick_device(device, f"{where}.device")


def check_arguments(
    cls: type | Callable[..., Any], kwargs: dict[str, Any], where: str, label: str, injected: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`kwargs` checked against `cls`'s constructor: every key known, every value of its annotated type, every
    required argument present (except the `injected` ones); a ConfigError names `where.key` otherwise."""
    parameters = constructor_parameters(cls)
    allowed = [name for name in parameters if name not in injected]
    for key in kwargs:
        if key not in allowed:
            raise ConfigError(f"{where}: {label} has no setting {key!r}{suggest(key, allowed)}; "
                              f"allowed: {', '.join(allowed) or '(none)'}")
    hints = _type_hints(cls)
    checked = dict(kwargs)
    for name, parameter in parameters.items():
        if name in checked:
            checked[name] = check_value(checked[name], hints.get(name, Any), f"{where}.{name}")
        elif parameter.default is inspect.Parameter.empty and name not in injected:
            raise ConfigError(f"{where}: {label} needs setting {name!r}")
    return checked


def constructor_parameters(cls: type | Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The keyword arguments a YAML block may set for `cls` (a class, or a builder function)."""
    function = cls.__init__ if inspect.isclass(cls) else cls
    parameters = list(inspect.signature(function).parameters.items())[1 if inspect.isclass(cls) else 0 :]
    return {name: p for name, p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _type_hints(cls: type | Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls.__init__ if inspect.isclass(cls) else cls)
    except (NameError, TypeError):
        return {}


def check_value(value: Any, annotation: Any, where: str) -> Any:
    """`value` if it fits `annotation` (ints pass as floats, lists as tuples); else a ConfigError naming `where`."""
    if _fits(value, annotation):
        return _coerce(value, annotation)
    raise ConfigError(f"{where}: expected {_describe(annotation)}, got {value!r} ({type(value).__name__})")


def _fits(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any or annotation is inspect.Parameter.empty:
        return True
    if annotation is type(None) or annotation is None:
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in args)
    if origin is typing.Literal:
        return value in args
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation in (str, Path):
        return isinstance(value, str)
    if annotation is bool:
        return isinstance(value, bool)
    if origin in (list, tuple, collections.abc.Sequence):
        if not isinstance(value, (list, tuple)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(_fits(v, a) for v, a in zip(value, args))
        return all(_fits(v, args[0]) for v in value) if args else True
    if origin in (dict, collections.abc.Mapping):
        return isinstance(value, dict) and (not args or all(_fits(k, args[0]) and _fits(v, args[1])
                                                            for k, v in value.items()))
    if isinstance(annotation, type):
        return isinstance(value, annotation)
    return True


def _coerce(value: Any, annotation: Any) -> Any:
    """Ints to floats and lists to tuples where the annotation asks, also inside `X | None` and containers."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return _coerce(value, next(arg for arg in args if _fits(value, arg)))
    if annotation is float and isinstance(value, int):
        return float(value)
    if origin is tuple and args and args[-1] is not Ellipsis:
        return tuple(_coerce(v, a) for v, a in zip(value, args))
    if origin in (list, tuple, collections.abc.Sequence) and args:
        items = [_coerce(v, args[0]) for v in value]
        return tuple(items) if origin is tuple else items
    return value


def _describe(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def suggest(key: str, allowed: list[str]) -> str:
    """` (did you mean 'X'?)` for the allowed name closest to `key`, or nothing."""
    close = difflib.get_close_matches(key, allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _construct(spec: ComponentSpec, kwargs: dict[str, Any]) -> Any:
    """Build the component; an input error raised by its constructor is reported with the YAML key.

    The key is the setting whose value the message names (a missing ``path`` names the path), else the block.
    """
    try:
        return spec.cls(**kwargs)
    except VideoAnalystError as error:
        message = str(error)
        named = [name for name, value in spec.kwargs.items() if isinstance(value, str) and value and value in message]
        where = f"{spec.where}.{named[0]}" if len(named) == 1 else spec.where
        raise type(error)(f"{where}: {message}") from None
