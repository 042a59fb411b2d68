"""`crop_square_windows`: the opencv backend is video_analyst's cv2.warpAffine crop, bit for bit; the torch kernel
gives OpenCV 5.0's crops bit for bit, within one grey level of the installed OpenCV; `window_sides` and
`channel_means` equal video_analyst's formulas.

The expected crops come from cv2.warpAffine called as video_analyst's ``get_subwindow_tracking`` calls it
(``videoanalyst/pipeline/utils/crop.py``), with the matrix built from the window's float32 corners as its
``cxywh2xyxy`` builds them (``pipeline/utils/bbox.py``): from the installed OpenCV, and from opencv-python-headless
5.0.0.93 as recorded in data/opencv_5.0_crops.npz (the CASES table and seeded random windows, SHA-256 digests of
the crops). Re-record that file from the repository root with OpenCV 5.0 first on the path:

    pip install --no-deps --target /tmp/cv50 opencv-python-headless==5.0.0.93
    PYTHONPATH=/tmp/cv50 python -m tests.ops.test_crop
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from videoanalyst.ops import channel_means, crop_square_windows, window_sides
from videoanalyst.ops import crop as crop_module
from videoanalyst.ops.crop import _interpolate, _source_coordinates


def reference_crop(image: np.ndarray, cx: float, cy: float, side: float, out: int, fill) -> np.ndarray:
    """(out, out, 3) cv2 crop of an (H, W, 3) image: corners cx -+ (side - 1) / 2 in float32, M in float64."""
    box = np.array([cx, cy, side, side], dtype=np.float32)
    half = (box[2:] - 1) / 2
    x0, y0 = box[:2] - half
    x1, y1 = box[:2] + half
    matrix = np.array([(x1 - x0) / (out - 1), 0, x0, 0, (y1 - y0) / (out - 1), y0]).reshape(2, 3)
    assert matrix.dtype == np.float64
    return cv2.warpAffine(
        image,
        matrix,
        (out, out),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(int(v) for v in fill),
    )


def crop(
    image: np.ndarray, windows: list[tuple[float, float, float]], out: int, fill, backend: str = "torch"
) -> np.ndarray:
    """(K, out, out, 3) crops of an (H, W, 3) image by `crop_square_windows`, passed the (3, H, W) view; the torch
    kernel unless told (the opencv backend is the reference's own call)."""
    windows = torch.tensor(windows, dtype=torch.float64).reshape(-1, 3)
    crops = crop_square_windows(
        torch.from_numpy(image).permute(2, 0, 1), windows[:, :2], windows[:, 2], out, torch.as_tensor(fill), backend
    )
    assert crops.dtype == torch.uint8 and crops.shape == (len(windows), 3, out, out)
    return crops.permute(0, 2, 3, 1).numpy()


def assert_within_one_grey_level(got: np.ndarray, expected: np.ndarray) -> None:
    difference = np.abs(got.astype(np.int16) - expected.astype(np.int16))
    assert difference.max(initial=0) <= 1, f"{int((difference > 1).sum())} values differ by more than one grey level"


def digest(crop: np.ndarray) -> str:
    """SHA-256 of an (out, out, 3) crop's bytes."""
    return hashlib.sha256(np.ascontiguousarray(crop).tobytes()).hexdigest()


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Crops are compared here, not timed: one intra-op thread keeps the file fast on a busy 2-core machine, where
    torch's second thread can wait a scheduler slice at every operation."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def seeded_image() -> np.ndarray:
    """The 120 x 90 test image."""
    return np.random.default_rng(0).integers(0, 256, (90, 120, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return seeded_image()


FILL = (104, 117, 123)

# (cx, cy, side, out) on the 120 x 90 image
CASES = {
    "inside": (60.0, 45.0, 61, 127),
    "inside, upscaled to 303": (50.25, 40.75, 41, 303),
    "inside, downscaled": (59.5, 44.5, 85, 31),
    "non-integer centre": (61.37, 44.81, 53, 127),
    "out left": (5.3, 45.1, 40, 127),
    "out right": (115.6, 44.9, 40, 127),
    "out top": (60.2, 3.7, 40, 127),
    "out bottom": (59.8, 87.4, 40, 127),
    "out top-left corner": (-4.5, -6.25, 33, 47),
    "out bottom-right corner": (121.0, 92.0, 30, 47),
    "entirely outside": (-100.0, 200.0, 20, 17),
    "huge": (60.0, 45.0, 300, 303),
    "huge, off centre": (10.0, 80.0, 257, 127),
    "side 1": (30.4, 20.6, 1, 17),
    "side 2": (0.3, 89.6, 2, 16),
    "side 3": (119.2, 0.4, 3, 15),
    "side 4": (60.0, 45.0, 4, 33),
    "side 5": (-0.5, 45.5, 5, 3),
    "out size 2": (60.3, 45.7, 20, 2),
    # source coordinates a hair above 0: weights below float64's reach, the round-to-odd path
    "column weight below 2**-22": (1e-8, 20.0, 1, 17),
    "row weight below 1/32": (20.0, 0.01, 1, 17),
}

#: OpenCV 5.0.0.93's crops of `seeded_image`: the CASES with FILL, then random windows (`random_windows`).
OPENCV_50 = Path(__file__).parent / "data" / "opencv_5.0_crops.npz"


def random_windows(count: int = 160, seed: int = 5) -> tuple[np.ndarray, list[int], np.ndarray]:
    """(count, 3) cx, cy, side, `count` output sizes and (count, 3) fills: windows of every size around and past
    the 120 x 90 image, outputs with and without a scalar tail (out % 16)."""
    rng = np.random.default_rng(seed)
    windows = np.stack(
        [rng.uniform(-40, 160, count), rng.uniform(-40, 130, count), rng.integers(1, 250, count).astype(float)], 1
    )
    # Python ints, as a tracker's: a NumPy int would make the step (x1 - x0) / (out - 1) float64, not float32
    outs = rng.choice([2, 3, 7, 15, 16, 17, 31, 32, 33, 47, 127, 303], count).tolist()
    return windows, outs, rng.integers(0, 256, (count, 3))


def record_opencv_crops(path: Path = OPENCV_50) -> None:
    """Writes the installed cv2's crops of the CASES and the random windows as digests, with the windows (run
    with OpenCV 5.0 first on the path: the module docstring gives the command)."""
    image = seeded_image()
    windows, outs, fills = random_windows()
    windows = np.concatenate([[case[:3] for case in CASES.values()], windows])
    outs = [case[3] for case in CASES.values()] + outs
    fills = np.concatenate([[FILL] * len(CASES), fills])
    names = [*CASES, *(f"random {k}" for k in range(len(windows) - len(CASES)))]
    digests = [digest(reference_crop(image, *window, out, fill)) for window, out, fill in zip(windows, outs, fills)]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, opencv=cv2.__version__, names=names, windows=windows, outs=outs, fills=fills, sha256=digests
    )


@pytest.fixture(scope="module")
def opencv_50() -> dict[str, np.ndarray]:
    recorded = dict(np.load(OPENCV_50))
    assert str(recorded["opencv"]) == "5.0.0"
    assert list(recorded["names"][: len(CASES)]) == list(CASES)
    return recorded


def _differing_from_opencv_50(image: np.ndarray, recorded: dict[str, np.ndarray], crop_one) -> list[str]:
    """Names of the recorded windows whose crop by `crop_one(image, window, out, fill)` is not OpenCV 5.0's."""
    entries = zip(recorded["names"], recorded["windows"], recorded["outs"], recorded["fills"], recorded["sha256"])
    return [
        str(name)
        for name, window, out, fill, expected in entries
        if digest(crop_one(image, window, int(out), fill)) != expected
    ]


def test_torch_kernel_equals_opencv_50_on_any_installed_opencv(image, opencv_50):
    """Reference: opencv-python-headless 5.0.0.93's cv2.warpAffine (data/opencv_5.0_crops.npz)."""

    def torch_crop(image, window, out, fill):
        return crop(image, [tuple(window)], out, fill)[0]

    assert _differing_from_opencv_50(image, opencv_50, torch_crop) == []


def test_round_to_odd_arithmetic_equals_opencv_50(image, opencv_50):
    """The arithmetic a GPU runs (no shortcuts) gives the same crops. Reference: OpenCV 5.0.0.93, as above."""

    def round_to_odd_crop(image, window, out, fill):
        x, y = _source_coordinates(torch.tensor(window[None, :2]), torch.tensor(window[2:]), out)
        fill = torch.tensor(fill[None], dtype=torch.uint8)
        got = _interpolate(torch.from_numpy(image).permute(2, 0, 1), x, y, fill, shortcuts=False)
        return got[0].permute(1, 2, 0).numpy()

    assert _differing_from_opencv_50(image, opencv_50, round_to_odd_crop) == []


@pytest.mark.parametrize("cx, cy, side, out", CASES.values(), ids=CASES.keys())
def test_opencv_backend_equals_the_installed_cv2_and_torch_is_within_one_grey_level(image, cx, cy, side, out):
    expected = reference_crop(image, cx, cy, side, out, FILL)
    np.testing.assert_array_equal(crop(image, [(cx, cy, side)], out, FILL, "opencv")[0], expected)
    assert_within_one_grey_level(crop(image, [(cx, cy, side)], out, FILL)[0], expected)


def test_torch_kernel_is_within_one_grey_level_of_the_installed_cv2_on_random_windows(image):
    windows, outs, fills = random_windows()
    for window, out, fill in zip(windows, outs, fills):
        expected = reference_crop(image, *window, out, fill)
        np.testing.assert_array_equal(crop(image, [tuple(window)], out, fill, "opencv")[0], expected)
        assert_within_one_grey_level(crop(image, [tuple(window)], out, fill)[0], expected)


def test_cpu_images_are_cropped_by_opencv_and_any_channel_layout_reads_the_same(image, monkeypatch):
    windows, sides = torch.tensor([[60.0, 45.0], [5.3, 45.1]], dtype=torch.float64), torch.tensor([61.0, 40.0])
    view = torch.from_numpy(image).permute(2, 0, 1)  # (3, H, W) view of (H, W, 3) memory, as FramePacket gives
    for backend in ("torch", "opencv"):
        expected = crop_square_windows(view, windows, sides, 127, torch.tensor(FILL), backend)
        got = crop_square_windows(view.contiguous(), windows, sides, 127, torch.tensor(FILL), backend)
        np.testing.assert_array_equal(got, expected)
    calls = []
    opencv = crop_module._crop_opencv
    monkeypatch.setattr(crop_module, "_crop_opencv", lambda *args: calls.append(args) or opencv(*args))
    np.testing.assert_array_equal(crop_square_windows(view, windows, sides, 127, torch.tensor(FILL)), expected)
    assert len(calls) == 1  # "auto" on CPU takes the opencv path


def test_unknown_backend_is_refused(image):
    with pytest.raises(ValueError, match="backend must be 'auto', 'opencv' or 'torch', got 'cuda'"):
        crop(image, [(60.0, 45.0, 61)], 127, FILL, "cuda")


def test_windows_in_one_call_equal_single_calls_with_their_own_fill(image):
    windows = [(60.0, 45.0, 61), (5.3, 45.1, 40), (-100.0, 200.0, 20), (61.37, 44.81, 130), (30.4, 20.6, 1)]
    fills = [(0, 0, 0), (255, 128, 1), (7, 8, 9), (104, 117, 123), (250, 2, 30)]
    for backend in ("opencv", "torch"):
        together = crop(image, windows, 127, fills, backend)
        for window, fill, got in zip(windows, fills, together):
            np.testing.assert_array_equal(got, crop(image, [window], 127, fill, backend)[0])
            assert_within_one_grey_level(got, reference_crop(image, *window, 127, fill))
    expected = [reference_crop(image, *window, 127, fill) for window, fill in zip(windows, fills)]
    np.testing.assert_array_equal(crop(image, windows, 127, fills, "opencv"), np.stack(expected))


def test_no_windows(image):
    assert crop(image, [], 127, FILL).shape == (0, 127, 127, 3)


def test_fill_is_truncated_like_int(image):
    means = channel_means(torch.from_numpy(image).permute(2, 0, 1))
    assert not torch.equal(means, means.trunc())
    expected_fill = [int(v) for v in means.tolist()]
    for backend in ("opencv", "torch"):
        got = crop(image, [(5.3, 45.1, 40), (-100.0, -100.0, 9)], 47, means, backend)
        assert_within_one_grey_level(got[0], reference_crop(image, 5.3, 45.1, 40, 47, expected_fill))
        assert (got[1] == np.array(expected_fill, np.uint8)).all()
    np.testing.assert_array_equal(
        crop(image, [(5.3, 45.1, 40)], 47, means, "opencv")[0], reference_crop(image, 5.3, 45.1, 40, 47, expected_fill)
    )


def test_channel_means_equal_numpy(image):
    means = channel_means(torch.from_numpy(image).permute(2, 0, 1))
    assert means.dtype == torch.float64
    np.testing.assert_array_equal(means.numpy(), np.mean(image, axis=(0, 1)))


def reference_sides(sizes: np.ndarray, z_size: int, x_size: int, context: float) -> tuple[list[int], list[float]]:
    """video_analyst's get_crop: wc = w + c * (w + h), s = sqrt(wc * hc), scale = z / s, side = round(x / scale)."""
    sides, scales = [], []
    for w, h in sizes:
        wc = w + context * (w + h)
        hc = h + context * (w + h)
        scale = z_size / np.sqrt(wc * hc)
        sides.append(round(x_size / scale))
        scales.append(scale)
    return sides, scales


@pytest.mark.parametrize("z_size, x_size, context", [(127, 303, 0.5), (127, 127, 0.5), (4, 301, 0.0), (4, 303, 0.0)])
def test_window_sides_equal_get_crop(z_size, x_size, context):
    # (2, 2) with z 4, c 0 gives sides of exactly 150.5 and 151.5 (x 301, 303): half to even gives 150 and 152
    sizes = np.array([[2.0, 2.0], [37.5, 81.25], [1.0, 1.0], [400.7, 12.3], [61.0, 61.0]])
    sides, scales = window_sides(torch.from_numpy(sizes), z_size, x_size, context)
    expected_sides, expected_scales = reference_sides(sizes, z_size, x_size, context)
    assert sides.dtype == scales.dtype == torch.float64
    assert sides.tolist() == expected_sides
    assert scales.tolist() == expected_scales


def test_window_sides_round_half_to_even():
    sides, _ = window_sides(torch.tensor([[2.0, 2.0]] * 2), 4, 301, 0.0)
    assert sides.tolist() == [150.0, 150.0]
    sides, _ = window_sides(torch.tensor([[2.0, 2.0]]), 4, 303, 0.0)
    assert sides.tolist() == [152.0]


def test_sixty_four_search_windows_of_a_frame():
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (180, 320, 3), dtype=np.uint8)
    windows = [(rng.uniform(-20, 340), rng.uniform(-20, 200), float(rng.integers(50, 400))) for _ in range(64)]
    got = crop(frame, windows, 303, FILL)
    for k in (0, 17, 63):
        np.testing.assert_array_equal(got[k], crop(frame, [windows[k]], 303, FILL)[0])
        assert_within_one_grey_level(got[k], reference_crop(frame, *windows[k], 303, FILL))


@pytest.mark.parametrize(
    "image, centers, sides, fill",
    [
        (torch.zeros(90, 120, 3, dtype=torch.uint8), torch.zeros(1, 2), torch.ones(1), torch.zeros(3)),
        (torch.zeros(3, 9, 9), torch.zeros(1, 2), torch.ones(1), torch.zeros(3)),
        (torch.zeros(3, 9, 9, dtype=torch.uint8), torch.zeros(2), torch.ones(1), torch.zeros(3)),
        (torch.zeros(3, 9, 9, dtype=torch.uint8), torch.zeros(2, 2), torch.ones(1), torch.zeros(3)),
        (torch.zeros(3, 9, 9, dtype=torch.uint8), torch.zeros(2, 2), torch.ones(2), torch.zeros(3, 3)),
    ],
)
def test_rejects_wrong_shapes(image, centers, sides, fill):
    with pytest.raises(ValueError):
        crop_square_windows(image, centers, sides, 17, fill)


@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    out=st.sampled_from([2, 3, 7, 16, 17, 31, 33, 127]),
    side=st.integers(1, 100),
    cx=st.floats(-60, 100, allow_nan=False),
    cy=st.floats(-60, 100, allow_nan=False),
    fill=st.tuples(*[st.integers(0, 255)] * 3),
    seed=st.integers(0, 2**16),
)
def test_property_torch_kernel_is_within_one_grey_level_of_cv2(height, width, out, side, cx, cy, fill, seed):
    image = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    expected = reference_crop(image, cx, cy, side, out, fill)
    np.testing.assert_array_equal(crop(image, [(cx, cy, side)], out, fill, "opencv")[0], expected)
    assert_within_one_grey_level(crop(image, [(cx, cy, side)], out, fill)[0], expected)


if __name__ == "__main__":
    record_opencv_crops()
    print(f"recorded OpenCV {cv2.__version__}'s crops in {OPENCV_50}")
