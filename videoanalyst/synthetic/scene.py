"""A seeded synthetic scene: textured rectangles and ellipses moving, scaling and occluding each other over a
textured background, optionally seen by a panning camera; frames and exact ground truth for any frame index.

Everything is a closed-form function of the frame index (objects bounce off the edges of a world larger than the
view, sizes swing sinusoidally), so `frame(i)` needs no simulation of the frames before it, and the same seed gives
byte-identical frames.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from videoanalyst.core.detections import Detections
from videoanalyst.core.target_state import TargetState
from videoanalyst.synthetic.texture import background_texture, object_textures
from videoanalyst.synthetic.visibility import inside_fractions, visible_fractions

#: Side of each object's texture in pixels; it is stretched to the object's box by nearest-neighbour sampling.
TEXTURE_SIZE = 64


@dataclass(frozen=True)
class SceneConfig:
    """What a synthetic scene looks like. Lengths relative to the view are fractions of the view height.

    Args:
        width, height: view (frame) size in pixels.
        num_frames: frames in the scene.
        num_objects: objects in the world; at any time some may be out of view.
        fps: nominal frame rate, for timestamps and the exported layouts' meta files.
        seed: everything random is drawn from it; the same seed gives byte-identical frames.
        camera_pan: move the camera over a world larger than the view; background and objects shift together.
        size_range: base object height, (smallest, largest), as fractions of the view height.
        aspect_range: object width / height, (smallest, largest).
        speed: mean object speed in view heights per frame; each object draws its own within x0.5 .. x1.5.
        scale_change: sizes swing between base / (1 + scale_change) and base * (1 + scale_change); 0: fixed sizes.
        scale_period: mean frames of one grow-and-shrink cycle; each object draws its own within x0.5 .. x1.5.
        pan_range: how far the camera moves from its start each way, as a fraction of the view width / height.
        pan_speed: camera speed in view heights per frame.
        background_cell: spatial scale of the background texture, in pixels.
    """

    width: int = 320
    height: int = 240
    num_frames: int = 100
    num_objects: int = 6
    fps: float = 25.0
    seed: int = 0
    camera_pan: bool = False
    size_range: tuple[float, float] = (0.15, 0.4)
    aspect_range: tuple[float, float] = (0.5, 2.0)
    speed: float = 0.01
    scale_change: float = 0.3
    scale_period: float = 60.0
    pan_range: float = 0.25
    pan_speed: float = 0.005
    background_cell: float = 40.0

    def __post_init__(self) -> None:
        if self.width < 8 or self.height < 8 or self.num_frames < 1 or self.num_objects < 0 or self.fps <= 0:
            raise ValueError(f"SceneConfig: need width, height >= 8, num_frames >= 1, num_objects >= 0, fps > 0; "
                             f"got {self.width}x{self.height}, {self.num_frames} frames, {self.num_objects} "
                             f"objects, fps {self.fps}")
        for name in ("size_range", "aspect_range"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"SceneConfig.{name} must be (low, high) with 0 < low <= high, got {(low, high)}")
        if min(self.speed, self.scale_change, self.pan_range, self.pan_speed) < 0 or self.scale_period <= 0:
            raise ValueError("SceneConfig: need speed, scale_change, pan_range, pan_speed >= 0 and scale_period > 0")


@dataclass(frozen=True)
class ObjectStates:
    """Where every object of a scene is in one frame, in view pixels.

    Args:
        ids: (N,) object ids, 1-based.
        xyxy: (N, 4) full, unclipped boxes x1, y1, x2, y2, also for objects out of view.
        visibility: (N,) fraction of each box inside the image and not covered by an object in front.
        inside: (N,) fraction of each box inside the image, occluders ignored.
    """

    ids: np.ndarray
    xyxy: np.ndarray
    visibility: np.ndarray
    inside: np.ndarray


class Scene:
    """The frames and ground truth of one `SceneConfig`, for any frame index in any order."""

    def __init__(self, config: SceneConfig) -> None:
        self.config = config
        n, view_height = config.num_objects, config.height
        background_rng, object_rng, camera_rng = (np.random.default_rng(s)
                                                  for s in np.random.SeedSequence(config.seed).spawn(3))
        # Objects: every draw is one vector over all objects, in a fixed order.
        self.ids = np.arange(1, n + 1)
        self.is_ellipse = object_rng.random(n) < 0.5
        self.base_height = object_rng.uniform(*config.size_range, n) * view_height
        self.aspect = np.exp(object_rng.uniform(*np.log(config.aspect_range), n))
        self.scale_period = config.scale_period * object_rng.uniform(0.5, 1.5, n)
        self.scale_phase = object_rng.uniform(0, 2 * np.pi, n)
        speed = config.speed * view_height * object_rng.uniform(0.5, 1.5, n)
        heading = object_rng.uniform(0, 2 * np.pi, n)
        self.velocity = speed[:, None] * np.stack([np.cos(heading), np.sin(heading)], axis=1)
        self.depth = object_rng.permutation(n)
        self.textures = object_textures(object_rng, n, TEXTURE_SIZE)
        # The world: the view plus the camera's travel; object centres bounce off a margin beyond it, wide enough
        # that every object is wholly out of view at the turning point.
        pan = np.array([config.width, config.height]) * config.pan_range if config.camera_pan else np.zeros(2)
        self.pan = np.round(pan).astype(np.int64)
        world = np.array([config.width, config.height]) + 2 * self.pan
        largest = (1 + config.scale_change) * self.base_height[:, None] * np.stack([self.aspect, np.ones(n)], axis=1)
        margin = largest.max(axis=0) / 2 + 1 if n else np.ones(2)
        self.centre_low, self.centre_high = -margin, world + margin
        # Every object starts with its centre in the first view, so frame 0 always shows some; they leave later.
        self.start = object_rng.uniform(self.pan, self.pan + [config.width, config.height], (n, 2))
        # The camera: its view's top-left corner in world pixels, starting in the middle of its travel.
        camera_heading = camera_rng.uniform(0, 2 * np.pi)
        self.camera_velocity = config.pan_speed * view_height * np.array([np.cos(camera_heading),
                                                                         np.sin(camera_heading)])
        self.background = background_texture(background_rng, int(world[1]), int(world[0]), config.background_cell)

    def __len__(self) -> int:
        return self.config.num_frames

    def camera(self, index: int) -> np.ndarray:
        """(2,) int64 top-left corner of the view in world pixels (constant without camera pan)."""
        self._check(index)
        return np.round(_bounce(self.pan + index * self.camera_velocity, 0, 2 * self.pan)).astype(np.int64)

    def objects(self, index: int) -> ObjectStates:
        """Every object's box and visibility in frame `index`."""
        self._check(index)
        heights = self.base_height * (1 + self.config.scale_change) ** np.sin(
            2 * np.pi * index / self.scale_period + self.scale_phase)
        half = np.stack([heights * self.aspect, heights], axis=1) / 2
        centres = _bounce(self.start + index * self.velocity, self.centre_low, self.centre_high) - self.camera(index)
        xyxy = np.concatenate([centres - half, centres + half], axis=1)
        width, height = self.config.width, self.config.height
        return ObjectStates(ids=self.ids, xyxy=xyxy, visibility=visible_fractions(xyxy, self.depth, width, height),
                            inside=inside_fractions(xyxy, width, height))

    def ground_truth(self, index: int) -> Detections:
        """Boxes (xyxy, full and unclipped) of the objects at least partly visible in frame `index`.

        track_ids are the object ids, class_ids 1, extra "visibility" (float32, 0..1].
        """
        states = self.objects(index)
        seen = states.visibility > 0
        return Detections(xyxy=states.xyxy[seen], class_ids=np.ones(int(seen.sum())), track_ids=states.ids[seen],
                          extra={"visibility": states.visibility[seen].astype(np.float32)})

    def background_view(self, index: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB: what the camera sees of the background in frame `index`, without the objects."""
        x, y = self.camera(index)
        return self.background[y: y + self.config.height, x: x + self.config.width].copy()

    def frame(self, index: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB frame `index`: the background, then the objects from back to front."""
        image = self.background_view(index)
        states = self.objects(index)
        for k in np.argsort(self.depth):
            self._draw(image, k, states.xyxy[k])
        return image

    def _draw(self, image: np.ndarray, k: int, box: np.ndarray) -> None:
        """Paint object `k` over the pixels whose centres fall inside `box`, sampling its texture stretched to it."""
        rows, v = _covered_pixels(box[1], box[3], image.shape[0])
        cols, u = _covered_pixels(box[0], box[2], image.shape[1])
        if len(rows) == 0 or len(cols) == 0:
            return
        texture = self.textures[k]
        patch = texture[np.minimum((v * TEXTURE_SIZE).astype(np.int64), TEXTURE_SIZE - 1)[:, None],
                        np.minimum((u * TEXTURE_SIZE).astype(np.int64), TEXTURE_SIZE - 1)[None, :]]
        region = image[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
        if self.is_ellipse[k]:
            inside = (2 * v[:, None] - 1) ** 2 + (2 * u[None, :] - 1) ** 2 <= 1
            np.copyto(region, patch, where=inside[:, :, None])
        else:
            region[:] = patch

    def _check(self, index: int) -> None:
        if not 0 <= index < self.config.num_frames:
            raise IndexError(f"frame {index} out of range for a scene of {self.config.num_frames} frames")


class TargetView:
    """One object of a scene seen as a single-object-tracking target.

    Args:
        scene: the scene.
        object_id: the target's id; None picks the object most visible in frame 0 (the lowest id on a tie).
    """

    def __init__(self, scene: Scene, object_id: int | None = None) -> None:
        self.scene = scene
        if object_id is None:
            visibility = scene.objects(0).visibility
            if len(visibility) == 0 or visibility.max() <= 0:
                raise ValueError(f"no object is visible in frame 0 of the scene with seed {scene.config.seed}")
            object_id = int(scene.ids[np.argmax(visibility)])
        if object_id not in scene.ids:
            raise ValueError(f"object_id must be one of 1..{len(scene.ids)}, got {object_id}")
        self.object_id = object_id
        self._k = object_id - 1

    def box(self, index: int) -> np.ndarray:
        """(4,) the target's full box x1, y1, x2, y2 in frame `index`, also where it is out of view or hidden."""
        return self.scene.objects(index).xyxy[self._k]

    def visibility(self, index: int) -> float:
        """Fraction of the target's box inside the image and not covered by objects in front."""
        return float(self.scene.objects(index).visibility[self._k])

    def state(self, index: int) -> TargetState:
        """The ground-truth `TargetState`: present=False and a NaN box where the target's visibility is 0."""
        states = self.scene.objects(index)
        if states.visibility[self._k] > 0:
            return TargetState(states.xyxy[self._k])
        return TargetState(np.full(4, np.nan), present=False)


def numbered_scenes(config: SceneConfig, count: int) -> list[tuple[str, SceneConfig]]:
    """`count` scenes named ``synthetic-000``, ``synthetic-001``, ...; scene k uses seed ``config.seed + k``."""
    return [(f"synthetic-{k:03d}", replace(config, seed=config.seed + k)) for k in range(count)]


def _bounce(position: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """`position` folded into [low, high] as if reflected at both ends (a triangle wave); low == high pins it."""
    span = np.asarray(high - low, dtype=np.float64)
    period = np.where(span > 0, 2 * span, 1.0)
    phase = np.mod(position - low, period)
    return low + np.where(span > 0, np.minimum(phase, period - phase), 0.0)


def _covered_pixels(start: float, stop: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel indices in [0, size) whose centres lie in [start, stop), and those centres' position in [0, 1)."""
    first = max(int(np.ceil(start - 0.5)), 0)
    last = min(int(np.ceil(stop - 0.5)), size)
    pixels = np.arange(first, last)
    return pixels, (pixels + 0.5 - start) / (stop - start)
