"""The VOT toolkit's region overlap: both regions rasterised on the pixel grid, bounded by the image, and the
overlap is |A & B| / |A | B| counted in pixels.

A region is a 1-D array: no values (empty: a special code frame or an absent target), 4 values (rectangle
x, y, w, h) or 2K values, K >= 3 (polygon x1, y1, ..., xK, yK). Conventions of vot-toolkit 0.9.0
(``vot/region/raster.py``: ``_calculate_overlap``, ``rasterize_rectangle``, ``rasterize_polygon``,
``_bounds_rectangle``, ``_bounds_polygon``; ``vot/region/shapes.py``: regions stored as float32), kept exactly
because they move accuracy in the third decimal:

- coordinates become float32, then are rounded half to even (``np.round``);
- a rectangle covers columns x .. x + w - 1 and rows y .. y + h - 1; a polygon is filled row by row between pairs
  of edge crossings truncated to integers, both ends included, so a polygon with the corners of a rectangle covers
  one more column and one more row than the rectangle;
- an empty region's bounds are (0, 0, 0, 0) and take part in the union of the two regions' bounds; a union less
  than two pixels wide or high gives overlap 1 ("two empty regions are identical"), a union that the image bounds
  clip below two pixels gives 0;
- nothing outside the image (`bounds`: width, height) counts.

Rows are processed as pixel spans, not masks, all frames of a sequence at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_EMPTY, _RECTANGLE, _POLYGON = 0, 1, 2
#: Rows (pairs x raster rows) handled per chunk; bounds the memory of the span arrays.
_ROWS_PER_CHUNK = 1 << 17


def region_overlap(first: np.ndarray, second: np.ndarray, bounds: tuple[int, int]) -> float:
    """The toolkit's overlap of two regions (see the module docstring for the region layout) in an image of
    `bounds` (width, height)."""
    return float(region_overlaps([first], [second], bounds)[0])


def region_overlaps(first: Sequence[np.ndarray], second: Sequence[np.ndarray], bounds: tuple[int, int]) -> np.ndarray:
    """(N,) float64 overlaps of the regions of `first` and `second`, pair by pair, as the toolkit's
    ``calculate_overlaps`` computes them.

    Args:
        first, second: N regions each: empty, rectangle x, y, w, h, or polygon x1, y1, ..., xK, yK.
        bounds: image (width, height); pixels outside it do not count (the toolkit's analyses all run bounded).

    Raises:
        ValueError: for lists of different lengths, or a region with a value count other than 0, 4 or an even
            number >= 6, or a non-finite value.
    """
    if len(first) != len(second):
        raise ValueError(f"region_overlaps: {len(first)} regions against {len(second)}")
    a, b = _Regions.encode(first), _Regions.encode(second)
    union = np.concatenate([np.minimum(a.box[:, :2], b.box[:, :2]), np.maximum(a.box[:, 2:], b.box[:, 2:])], axis=1)
    width, height = bounds
    window = np.stack(
        [
            np.maximum(union[:, 0], 0),
            np.maximum(union[:, 1], 0),
            np.minimum(union[:, 2], width - 1),
            np.minimum(union[:, 3], height - 1),
        ],
        axis=1,
    )
    identical = (union[:, 0] >= union[:, 2]) | (union[:, 1] >= union[:, 3])
    outside = (window[:, 0] >= window[:, 2]) | (window[:, 1] >= window[:, 3])
    overlaps = identical.astype(np.float64)
    todo = np.flatnonzero(~identical & ~outside)
    rows = np.cumsum(window[todo, 3] - window[todo, 1] + 1)
    chunks = np.split(todo, np.flatnonzero(np.diff(rows // _ROWS_PER_CHUNK)) + 1) if len(todo) else []
    for pairs in chunks:
        intersection, joint = _pixel_counts(a.take(pairs), b.take(pairs), window[pairs])
        overlaps[pairs] = np.divide(intersection, joint, out=np.zeros(len(pairs)), where=joint > 0)
    return overlaps


@dataclass(frozen=True)
class _Regions:
    """N regions as arrays: kind, bounds (left, top, right, bottom), rectangle x, y, w, h, and polygon corners
    (N, K_max, 2) with each polygon's corner count; all coordinates rounded as the toolkit rounds them."""

    kind: np.ndarray
    box: np.ndarray
    rectangle: np.ndarray
    corners: np.ndarray
    num_corners: np.ndarray

    @classmethod
    def encode(cls, regions: Sequence[np.ndarray]) -> _Regions:
        values = [np.asarray(r, dtype=np.float32).reshape(-1) for r in regions]
        sizes = np.array([len(v) for v in values], dtype=np.int64)
        wrong = np.flatnonzero(((sizes != 0) & (sizes != 4) & (sizes < 6)) | (sizes % 2 == 1))
        if len(wrong):
            raise ValueError(
                f"region {wrong[0]}: expected 0, 4 or an even number >= 6 of values, got {sizes[wrong[0]]}"
            )
        n = len(values)
        kind = np.select([sizes == 4, sizes >= 6], [_RECTANGLE, _POLYGON], _EMPTY)
        num_corners = np.where(kind == _POLYGON, sizes // 2, 0)
        rectangle = np.zeros((n, 4), dtype=np.int64)
        corners = np.zeros((n, max(num_corners.max(initial=0), 1), 2), dtype=np.int64)
        box = np.zeros((n, 4), dtype=np.int64)
        for size in np.unique(sizes[sizes > 0]):
            rows = np.flatnonzero(sizes == size)
            block = np.round(np.stack([values[i] for i in rows]))
            if not np.isfinite(block).all():
                raise ValueError(f"region {rows[np.flatnonzero(~np.isfinite(block).all(axis=1))[0]]}: non-finite value")
            block = block.astype(np.int64)
            if size == 4:
                rectangle[rows] = block
                box[rows] = np.concatenate([block[:, :2], block[:, :2] + block[:, 2:] - 1], axis=1)
            else:
                points = block.reshape(len(rows), -1, 2)
                corners[rows, : size // 2] = points
                box[rows] = np.concatenate([points.min(axis=1), points.max(axis=1)], axis=1)
        return cls(kind, box, rectangle, corners, num_corners)

    def take(self, index: np.ndarray) -> _Regions:
        return _Regions(
            self.kind[index], self.box[index], self.rectangle[index], self.corners[index], self.num_corners[index]
        )


def _pixel_counts(a: _Regions, b: _Regions, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,) intersection and union pixel counts of region pairs rasterised inside their windows, all rows of all
    windows stacked."""
    height = window[:, 3] - window[:, 1] + 1
    offsets = np.cumsum(height) - height
    pair = np.repeat(np.arange(len(window)), height)
    row = np.arange(len(pair)) - offsets[pair]
    start_a, end_a = _row_spans(a, window, pair, row)
    start_b, end_b = _row_spans(b, window, pair, row)
    area_a = np.add.reduceat((end_a - start_a + 1).sum(axis=1), offsets)
    area_b = np.add.reduceat((end_b - start_b + 1).sum(axis=1), offsets)
    common = np.minimum(end_a[:, :, None], end_b[:, None, :]) - np.maximum(start_a[:, :, None], start_b[:, None, :]) + 1
    intersection = np.add.reduceat(np.maximum(common, 0).sum(axis=(1, 2)), offsets)
    return intersection, area_a + area_b - intersection


def _row_spans(regions: _Regions, window: np.ndarray, pair: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, ...]:
    """Start and end (inclusive, window columns), each (rows, spans), of the pixel runs each region fills on each
    stacked window row (`pair`: whose window, `row`: which of its rows); the runs of a row are disjoint, and an
    unused slot is the empty run (0, -1)."""
    kind, corners = regions.kind[pair], regions.num_corners[pair]
    start = np.zeros((len(pair), max(1, regions.num_corners.max(initial=0) // 2)), dtype=np.int64)
    end = np.full_like(start, -1)
    rect = kind == _RECTANGLE
    if rect.any():
        start[rect, 0], end[rect, 0] = _rectangle_spans(regions.rectangle[pair[rect]], window[pair[rect]], row[rect])
    for k in np.unique(regions.num_corners[regions.kind == _POLYGON]):
        poly = (kind == _POLYGON) & (corners == k)
        owner = pair[poly]
        points = (regions.corners[owner, :k] - window[owner, None, :2]).astype(np.float64)
        width = window[owner, 2] - window[owner, 0] + 1
        start[poly, : k // 2], end[poly, : k // 2] = _polygon_spans(points, row[poly], width)
    # runs come out left to right and may share an end pixel: start each after the runs before it
    start[:, 1:] = np.maximum(start[:, 1:], np.maximum.accumulate(end, axis=1)[:, :-1] + 1)
    return start, np.where(start <= end, end, start - 1)


def _rectangle_spans(rectangle: np.ndarray, window: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The run of each row for rectangles, as the toolkit's ``rasterize_rectangle`` fills them: columns
    x .. x + w - 1 on rows y .. y + h - 1, inside the window."""
    x, y, w, h = rectangle.T
    left, top, right, bottom = window.T
    hits = ~((x > right) | (x + w - 1 < left) | (y > bottom) | (y + h - 1 < top))
    hits &= (row >= y - top) & (row <= y + h - 1 - top)
    first = np.maximum(0, x - left)
    last = np.minimum(x + w - 1 - left, right - left)
    return np.where(hits, first, 0), np.where(hits, last, -1)


def _polygon_spans(corners: np.ndarray, row: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Up to K // 2 runs a row for polygons of K corners (window coordinates), as the toolkit's
    ``rasterize_polygon`` fills them: an edge from corner i-1 to corner i whose row range holds the row crosses it
    at x_i + (row - y_i) / (y_{i-1} - y_i) * (x_{i-1} - x_i) truncated toward zero (x_i for a horizontal edge); the
    sorted crossings are filled pairwise, a crossing equal to the next one is skipped unless it is the last but one,
    and the scan of a row stops at a crossing right of the window."""
    xi, yi = corners[..., 0], corners[..., 1]
    xj, yj = np.roll(xi, 1, axis=-1), np.roll(yi, 1, axis=-1)
    y = row[:, None].astype(np.float64)
    crosses = (np.minimum(yi, yj) <= y) & (y <= np.maximum(yi, yj))
    rise = yj - yi
    step = np.divide(y - yi, rise, out=np.zeros(crosses.shape), where=rise != 0) * (xj - xi)
    nodes = np.trunc(np.where(rise != 0, xi + step, xi)).astype(np.int64)
    nodes = np.sort(np.where(crosses, nodes, np.iinfo(np.int64).max), axis=-1)
    count = crosses.sum(axis=-1)
    k = corners.shape[1]
    start = np.zeros((len(row), k // 2), dtype=np.int64)
    end = np.full_like(start, -1)
    at = np.zeros(len(row), dtype=np.int64)
    runs = np.zeros(len(row), dtype=np.int64)
    scanning = np.ones(len(row), dtype=bool)
    lines = np.arange(len(row))
    for _ in range(k):
        scanning &= at < count - 1
        if not scanning.any():
            break
        here, there = nodes[lines, np.minimum(at, k - 1)], nodes[lines, np.minimum(at + 1, k - 1)]
        scanning &= here < width
        repeat = scanning & (here == there) & (at < count - 2)
        fill = scanning & ~repeat
        kept = np.flatnonzero(fill & (there >= 0))
        start[kept, runs[kept]] = np.maximum(here[kept], 0)
        end[kept, runs[kept]] = np.minimum(there[kept], width[kept] - 1)
        runs[kept] += 1
        at += np.where(repeat, 1, np.where(fill, 2, 0))
    return start, end
