"""Synthetic scenes rendered in memory, with exact multi-object ground truth: no files needed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

from videoanalyst.core.packet import GROUND_TRUTH, FramePacket
from videoanalyst.core.stage import Source, Stream, StreamInfo
from videoanalyst.synthetic.scene import Scene, SceneConfig, numbered_scenes


@dataclass(frozen=True)
class SyntheticSource(SceneConfig, Source):
    """`num_streams` synthetic scenes, ids ``synthetic-000``, ...; stream k uses seed ``seed + k``.

    Its settings are those of `SceneConfig` (the scene) plus `num_streams`. Each frame carries the scene's
    `Detections` as ground truth: full boxes x1, y1, x2, y2 of the objects at least partly visible, track ids,
    class 1, extra "visibility". Frames are rendered as the pipeline asks for them.

    Args:
        width, height, num_frames, num_objects, fps, seed, camera_pan, size_range, aspect_range, speed,
            scale_change, scale_period, pan_range, pan_speed, background_cell: the scene, as `SceneConfig`
            describes them.
        num_streams: how many scenes to stream, one after another.
    """

    num_streams: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_streams < 1:
            raise ValueError(f"synthetic: num_streams must be >= 1, got {self.num_streams}")

    def total_frames(self) -> int:
        """`num_frames` of each of the `num_streams` scenes."""
        return self.num_frames * self.num_streams

    def streams(self) -> Iterator[Stream]:
        scene_config = SceneConfig(**{f.name: getattr(self, f.name) for f in fields(SceneConfig)})
        for name, config in numbered_scenes(scene_config, self.num_streams):
            scene = Scene(config)
            info = StreamInfo(name, config.width, config.height, fps=config.fps, num_frames=config.num_frames,
                              path=f"synthetic scene, seed {config.seed}")
            yield Stream(info, _packets(name, scene))


def _packets(name: str, scene: Scene) -> Iterator[FramePacket]:
    for index in range(len(scene)):
        packet = FramePacket(name, index, index / scene.config.fps, scene.frame(index))
        packet.outputs[GROUND_TRUTH] = scene.ground_truth(index)
        yield packet
