"""Smooth random textures for synthetic scenes: value noise interpolated between random grid points."""

from __future__ import annotations

import colorsys

import numpy as np


def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """(height, width, 3) float32 noise in [-1, 1], smooth over about `cell` pixels.

    Random values on a grid of spacing `cell`, linearly interpolated in y and x (two small matrix products).
    """
    grid = rng.uniform(-1.0, 1.0, (int(np.ceil(height / cell)) + 1, int(np.ceil(width / cell)) + 1, 3))
    rows = _interpolation_matrix(height, cell, len(grid))
    cols = _interpolation_matrix(width, cell, grid.shape[1])
    return np.einsum("yi,ijc,xj->yxc", rows, grid, cols, optimize=True).astype(np.float32)


def _interpolation_matrix(size: int, cell: float, points: int) -> np.ndarray:
    """(size, points) weights of linear interpolation from grid points spaced `cell` apart to pixel centres."""
    position = (np.arange(size) + 0.5) / cell
    low = np.floor(position).astype(np.int64)
    fraction = position - low
    matrix = np.zeros((size, points))
    matrix[np.arange(size), low] = 1.0 - fraction
    matrix[np.arange(size), low + 1] = fraction
    return matrix


def background_texture(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """(height, width, 3) uint8 RGB: a dim, low-saturation ground with coarse and fine variation.

    Grey-ish on purpose, so the saturated objects stand out from it.
    """
    grey = 110.0 + 45.0 * smooth_noise(rng, height, width, cell)[..., :1]
    tint = 12.0 * smooth_noise(rng, height, width, cell)
    detail = 20.0 * smooth_noise(rng, height, width, cell / 4)
    return np.clip(grey + tint + detail, 0, 255).astype(np.uint8)


def object_textures(rng: np.random.Generator, count: int, size: int) -> list[np.ndarray]:
    """`count` (size, size, 3) uint8 RGB textures, each around its own saturated hue, hues spread evenly apart."""
    hues = (np.arange(count) + rng.uniform(0.0, 0.5)) / max(count, 1)
    rng.shuffle(hues)
    textures = []
    for hue in hues:
        base = 255.0 * np.array(colorsys.hsv_to_rgb(hue, 0.85, 0.9), dtype=np.float32)
        coarse = 60.0 * smooth_noise(rng, size, size, size / 3)
        fine = 30.0 * smooth_noise(rng, size, size, size / 12)
        textures.append(np.clip(base + coarse + fine, 0, 255).astype(np.uint8))
    return textures
