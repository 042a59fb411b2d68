"""Draw boxes, track ids, scores and trails on RGB frames (Pillow), for the annotated-video sink.

Boxes are xyxy pixel corners (x1, y1, x2, y2). Line width and text size grow with the frame height, so
annotations read the same at 360p and at 4K.
"""

from __future__ import annotations

import colorsys
import functools
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from videoanalyst.core.detections import Detections
from videoanalyst.core.target_state import TargetState

Colour = tuple[int, int, int]

#: Boxes without a track id.
UNTRACKED_COLOUR: Colour = (200, 200, 200)
#: The single-object tracker's target.
TARGET_COLOUR: Colour = (255, 190, 0)
#: Ground truth, drawn thin and without labels under the predictions.
GROUND_TRUTH_COLOUR: Colour = (255, 255, 255)

_GOLDEN_RATIO_CONJUGATE = 0.6180339887498949


def track_colour(track_id: int) -> Colour:
    """A bright colour fixed per track id; successive ids step the hue by the golden ratio, so neighbours differ."""
    if track_id < 0:
        return UNTRACKED_COLOUR
    red, green, blue = colorsys.hsv_to_rgb((track_id * _GOLDEN_RATIO_CONJUGATE) % 1.0, 0.85, 1.0)
    return round(red * 255), round(green * 255), round(blue * 255)


def line_width(height: int) -> int:
    """Box line width in pixels for a frame `height` pixels tall: 1 at 360p, 3 at 1080p."""
    return max(1, round(height / 360))


def annotate(image: np.ndarray, detections: Detections | None = None, target: TargetState | None = None,
             ground_truth: Detections | TargetState | None = None,
             trails: Mapping[int, Sequence[tuple[float, float]]] | None = None,
             show_scores: bool = True) -> np.ndarray:
    """A copy of the (H, W, 3) uint8 RGB `image` with ground truth, trails, detections and target drawn on it.

    Detections are coloured by track id (grey where -1) and labelled "id score"; `trails` maps a track id to
    its recent box centres (x, y), oldest first.
    """
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    width = line_width(image.shape[0])
    if isinstance(ground_truth, Detections):
        for box in ground_truth.xyxy:
            draw_box(draw, box, GROUND_TRUTH_COLOUR, max(1, width // 2))
    elif isinstance(ground_truth, TargetState) and ground_truth.present:
        draw_box(draw, ground_truth.xyxy, GROUND_TRUTH_COLOUR, max(1, width // 2))
    for track_id, points in (trails or {}).items():
        draw_trail(draw, points, track_colour(track_id), width)
    if detections is not None:
        for box, track_id, score in zip(detections.xyxy, detections.track_ids, detections.scores):
            label = _label(int(track_id), float(score), show_scores)
            draw_box(draw, box, track_colour(int(track_id)), width, label)
    if target is not None and target.present:
        label = f"{target.score:.2f}" if show_scores else None
        if target.polygon is not None:
            draw.polygon([tuple(point) for point in target.polygon.tolist()], outline=TARGET_COLOUR, width=width)
        draw_box(draw, target.xyxy, TARGET_COLOUR, width, label)
    return np.asarray(canvas)


def draw_box(draw: ImageDraw.ImageDraw, xyxy: Iterable[float], colour: Colour, width: int,
             label: str | None = None) -> None:
    """An outlined box, with `label` on a filled tab above its top-left corner (below it where there is no room)."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    if not np.isfinite([x1, y1, x2, y2]).all() or x2 < x1 or y2 < y1:
        return
    draw.rectangle((round(x1), round(y1), round(x2), round(y2)), outline=colour, width=width)
    if label:
        font = _font(6 + 4 * width)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        tab_height = bottom + 2 * width
        y = y1 - tab_height if y1 >= tab_height else y1
        draw.rectangle((round(x1), round(y), round(x1) + right + 2 * width, round(y) + tab_height), fill=colour)
        draw.text((round(x1) + width, round(y) + width), label, fill=(0, 0, 0), font=font)


def draw_trail(draw: ImageDraw.ImageDraw, points: Sequence[tuple[float, float]], colour: Colour, width: int) -> None:
    """A polyline through `points` (x, y), oldest first."""
    if len(points) >= 2:
        draw.line([(float(x), float(y)) for x, y in points], fill=colour, width=width, joint="curve")


def _label(track_id: int, score: float, show_scores: bool) -> str | None:
    parts = ([f"id {track_id}"] if track_id >= 0 else []) + ([f"{score:.2f}"] if show_scores else [])
    return " ".join(parts) or None


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)
