"""Exact visible fractions of overlapping boxes: the part of each box inside the image and not under a box in front."""

from __future__ import annotations

import numpy as np


def visible_fractions(xyxy: np.ndarray, depth: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N,) fraction of each box's area inside the image and not covered by a box of greater `depth`.

    Args:
        xyxy: (N, 4) boxes x1, y1, x2, y2 in pixels, possibly reaching outside the image.
        depth: (N,) distinct drawing order; a box with greater depth is in front.
        width, height: the image, spanning (0, 0) to (width, height).
    """
    image = np.array([0.0, 0.0, width, height])
    fractions = np.zeros(len(xyxy))
    for k, box in enumerate(xyxy):
        area = (box[2] - box[0]) * (box[3] - box[1])
        inside = _intersect(box[None], image)[0]
        inside_area = _areas(inside[None])[0]
        if area <= 0 or inside_area <= 0:
            continue
        covers = _intersect(xyxy[depth > depth[k]], inside)
        fractions[k] = (inside_area - union_area(covers)) / area
    return np.clip(fractions, 0.0, 1.0)


def inside_fractions(xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N,) fraction of each box's area inside the image (0 for a box of no area)."""
    areas = _areas(xyxy)
    inside = _areas(_intersect(xyxy, np.array([0.0, 0.0, width, height])))
    return np.divide(inside, areas, out=np.zeros(len(xyxy)), where=areas > 0)


def union_area(xyxy: np.ndarray) -> float:
    """Area covered by the union of boxes (N, 4), exact: the plane is cut at every box edge into cells."""
    xyxy = xyxy[_areas(xyxy) > 0]
    if len(xyxy) == 0:
        return 0.0
    xs = np.unique(xyxy[:, [0, 2]])
    ys = np.unique(xyxy[:, [1, 3]])
    cx = (xs[:-1] + xs[1:]) / 2
    cy = (ys[:-1] + ys[1:]) / 2
    inside_x = (xyxy[:, 0, None] <= cx) & (cx < xyxy[:, 2, None])  # (N, cells in x)
    inside_y = (xyxy[:, 1, None] <= cy) & (cy < xyxy[:, 3, None])  # (N, cells in y)
    covered = (inside_y[:, :, None] & inside_x[:, None, :]).any(axis=0)
    return float((covered * np.diff(ys)[:, None] * np.diff(xs)[None, :]).sum())


def _intersect(xyxy: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Boxes (N, 4) cut to one box (4,); an empty intersection gets zero or negative size."""
    return np.concatenate([np.maximum(xyxy[:, :2], box[:2]), np.minimum(xyxy[:, 2:], box[2:])], axis=1)


def _areas(xyxy: np.ndarray) -> np.ndarray:
    return np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)
