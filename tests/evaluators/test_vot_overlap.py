"""The raster overlap of vot-toolkit 0.9.0 (``vot/region/raster.py``), checked on cases counted by hand.

The expected pixel counts follow that file's rules: coordinates to float32, rounded half to even; a rectangle
covers x .. x + w - 1; a polygon is filled row by row between its edge crossings, both ends included; pixels outside
the image do not count; a union of the two regions' bounds under two pixels wide or high is "identical" (1), one
that the image clips under two pixels is 0. (On 80,000 random pairs the module also equals the toolkit's
``calculate_overlap`` exactly; that comparison needs the toolkit and is not part of these tests.)
"""

import numpy as np
import pytest

from videoanalyst.evaluators.vot_overlap import region_overlap, region_overlaps

IMAGE = (100, 80)
DIAMOND = np.array([10, 0, 20, 10, 10, 20, 0, 10], dtype=float)  # a square rotated by 45 degrees


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ([10, 10, 10, 10], [10, 10, 10, 10], 1.0),
        ([10.5, 10, 10, 10], [10, 10, 10, 10], 1.0),  # 10.5 rounds half to even: 10
        ([11.5, 10, 10, 10], [10, 10, 10, 10], 80 / 120),  # 11.5 rounds to 12: columns 12..21 against 10..19
        ([10.5000001, 10, 10, 10], [10, 10, 10, 10], 1.0),  # float32(10.5000001) == 10.5: 10, not 11
        ([10.49, 10, 10.49, 10], [10, 10, 10, 10], 1.0),  # x and w rounded apart
        ([-5, 0, 10, 10], [0, 0, 10, 10], 50 / 100),  # half out of the image: 5 columns left, unbounded 50 / 150
        ([95, 75, 10, 10], [90, 70, 10, 10], 25 / 100),  # past the bottom-right corner
        ([10, 10, 10, 10], [30, 30, 10, 10], 0.0),
    ],
)
def test_rectangles(first, second, expected):
    assert region_overlap(np.array(first, float), np.array(second, float), IMAGE) == pytest.approx(expected, abs=1e-12)


def test_a_polygon_covers_its_last_row_and_column():
    """The polygon with a rectangle's corners fills 11 x 11 pixels, the rectangle 10 x 10."""
    rectangle = np.array([10, 10, 10, 10], dtype=float)
    corners = np.array([10, 10, 20, 10, 20, 20, 10, 20], dtype=float)
    assert region_overlap(rectangle, corners, IMAGE) == pytest.approx(100 / 121)
    assert region_overlap(corners, corners, IMAGE) == 1.0


def test_rotated_square():
    """|x - 10| + |y - 10| <= 10 fills 2d + 1 pixels on row y, d = 10 - |y - 10|: 221 pixels in all. Its bounding
    rectangle (0, 0, 20, 20) covers columns and rows 0..19, 400 pixels, holding all but the diamond's pixels on row
    20 and column 20 (one each): 219 in common, 402 in the union."""
    box = np.array([0, 0, 20, 20], dtype=float)
    assert region_overlap(DIAMOND, box, IMAGE) == pytest.approx(219 / 402)
    assert region_overlap(box, DIAMOND, IMAGE) == pytest.approx(219 / 402)
    shifted = DIAMOND + np.tile([1.0, 0.0], 4)  # one column right: rows hold 2d of the 2d + 1 pixels in common
    assert region_overlap(DIAMOND, shifted, IMAGE) == pytest.approx(200 / 242)


def test_rotated_square_cut_by_the_image():
    """Moved 10 pixels left, the diamond keeps columns 0..d of row y: 121 pixels in all; the rectangle 0, 0, 10, 20
    covers columns 0..9 of rows 0..19, 200 pixels, min(d, 9) + 1 a row of them the diamond's: 119 in common."""
    diamond = DIAMOND - np.tile([10.0, 0.0], 4)
    assert region_overlap(diamond, np.array([0, 0, 10, 20], dtype=float), IMAGE) == pytest.approx(119 / 202)


def test_empty_regions():
    empty = np.zeros(0)
    assert region_overlap(empty, empty, IMAGE) == 1.0  # two empty regions are identical
    assert region_overlap(empty, np.array([10, 10, 10, 10], float), IMAGE) == 0.0
    assert region_overlap(np.array([10, 10, 0.2, 10], float), np.array([10, 10, 10, 10], float), IMAGE) == 0.0


def test_toolkit_corner_cases():
    """Kept because the toolkit's numbers depend on them: a union of bounds one pixel wide counts as identical, and
    two equal boxes wholly outside the image overlap 0."""
    assert region_overlap(np.array([5, 5, 1, 3], float), np.array([5, 20, 1, 3], float), IMAGE) == 1.0
    outside = np.array([200, 200, 10, 10], dtype=float)
    assert region_overlap(outside, outside, IMAGE) == 0.0


def test_many_pairs_at_once_equal_one_by_one():
    rng = np.random.default_rng(0)
    first, second = [], []
    for i in range(300):
        centre = rng.uniform(-10, 110, 2)
        size = rng.uniform(1, 40, 2)
        rectangle = np.r_[centre - size / 2, size]
        angle = rng.uniform(0, np.pi)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        corners = (
            centre + rng.uniform(-5, 5, 2) + (np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * size / 2) @ rotation.T
        ).reshape(-1)
        kinds = [rectangle, corners, np.zeros(0), DIAMOND]
        first.append(kinds[i % 4])
        second.append(kinds[(i // 4) % 2])
    together = region_overlaps(first, second, IMAGE)
    one_by_one = [region_overlap(a, b, IMAGE) for a, b in zip(first, second)]
    np.testing.assert_array_equal(together, one_by_one)
    assert ((together >= 0) & (together <= 1)).all() and 0 < together.mean() < 1


def test_bad_regions():
    with pytest.raises(ValueError, match="0, 4 or an even number"):
        region_overlap(np.zeros(5), np.zeros(4), IMAGE)
    with pytest.raises(ValueError, match="non-finite"):
        region_overlap(np.array([np.nan, 0, 1, 1]), np.zeros(4), IMAGE)
    with pytest.raises(ValueError, match="2 regions against 1"):
        region_overlaps([np.zeros(4)] * 2, [np.zeros(4)], IMAGE)
