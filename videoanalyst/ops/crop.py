"""Square-window crops for Siamese trackers, batched in torch and equal bit for bit to video_analyst's cv2 crop.

video_analyst (megvii-research/video_analyst, ``videoanalyst/pipeline/utils/crop.py``, ``get_subwindow_tracking``)
crops with ``cv2.warpAffine(im, M, (out, out), INTER_LINEAR | WARP_INVERSE_MAP, BORDER_CONSTANT, fill)``, M built
in float32 from the window's corners (``bbox.py``, ``cxywh2xyxy``). `crop_square_windows` reproduces OpenCV 5.0's
8UC3 bilinear kernel (opencv/opencv ``modules/imgproc/src/warp_kernels.simd.hpp``, ``warpAffineLinearInvoker_8UC3``
with the macros of ``warp_common.vector.hpp`` and ``warp_common.scalar.hpp``) as dispatched on x86-64 with AVX2:

- M is cast to float32. Rows: ``sy = float(float(y * M4) + M5)``, two roundings, in the vector loop and the tail.
- Columns, in blocks of 16 (AVX2): ``sx = fma(M0, x, M2)``, one rounding. The last ``out % 16`` columns of a row
  go through the scalar tail: ``sx = float(float(x * M0) + M2)``, two roundings.
- ``ix = floor(sx)``, ``a = sx - ix`` in float32 (likewise ``iy``, ``b``); a tap outside the image reads the fill.
- ``top = fma(a, p01 - p00, p00)``, ``bottom = fma(a, p11 - p10, p10)``, ``v = fma(b, bottom - top, top)`` in
  float32 (the scalar tail compiles to the same fused operations), then round half to even and saturate to uint8.

An ARM or pre-AVX2 build of OpenCV splits rows at another width (8): its crops differ from these in a few pixels.
"""

from __future__ import annotations

import torch

#: Destination pixels per step of OpenCV's AVX2 warp loop (2 x 8 float lanes); the rest of a row is the scalar tail.
VECTOR_COLUMNS = 16


def window_sides(
    sizes: torch.Tensor, exemplar_size: int, out_size: int, context_amount: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Crop side and scale of K targets, as video_analyst's ``get_crop`` computes them.

    sizes: (K, 2) target (w, h), float32 or float64; the arithmetic stays in that precision (video_analyst keeps its
    sizes in float32, so float32 gives its scales to the last bit). Returns (sides (K,) ``round(out_size / scale)``
    rounded half to even like Python's ``round``; scales (K,) ``exemplar_size / sqrt(wc * hc)``, unrounded), where
    ``wc = w + context_amount * (w + h)`` and ``hc`` likewise (video_analyst ``pipeline/utils/crop.py``).
    """
    if not sizes.is_floating_point():
        sizes = sizes.to(torch.float64)
    if sizes.ndim != 2 or sizes.shape[1] != 2:
        raise ValueError(f"window_sides: sizes must have shape (K, 2) (w, h), got {tuple(sizes.shape)}")
    w, h = sizes.unbind(1)
    context = context_amount * (w + h)
    scales = number_over(exemplar_size, exact_sqrt((w + context) * (h + context)))
    return torch.round(number_over(out_size, scales)), scales


def exact_sqrt(tensor: torch.Tensor) -> torch.Tensor:
    """Correctly rounded square root, as NumPy's: torch's float32 CPU kernel is off by one bit in about a sixth
    of cases; the float64 root of a float32 value rounds correctly back to float32."""
    return torch.sqrt(tensor.double()).to(tensor.dtype)


def number_over(number: float, tensor: torch.Tensor) -> torch.Tensor:
    """``number / tensor`` rounded once, as NumPy divides: torch's ``number / tensor`` is
    ``reciprocal(tensor) * number``, two roundings, which can differ from NumPy in the last bit."""
    return torch.full_like(tensor, number) / tensor


def channel_means(image: torch.Tensor) -> torch.Tensor:
    """(3,) float64 mean of each channel of a (3, H, W) image: video_analyst's ``np.mean(im, axis=(0, 1))`` fill.

    The sum of uint8 values is an integer below 2**53, so it is exact in any order, as numpy's is.
    """
    _check_image(image)
    return image.sum(dim=(1, 2), dtype=torch.float64) / (image.shape[1] * image.shape[2])


def crop_square_windows(
    image: torch.Tensor, centers: torch.Tensor, sides: torch.Tensor, out_size: int, fill: torch.Tensor
) -> torch.Tensor:
    """K square windows of one frame, each resized to ``out_size`` px, as video_analyst's ``get_subwindow_tracking``.

    image: (3, H, W) uint8 in any channel order, on any device. centers: (K, 2) (cx, cy) and sides: (K,) float64 in
    pixels (pixel i has coordinate i, as in cv2). fill: (3,) or (K, 3) border values in the image's channel order;
    they are truncated toward zero like ``int()`` (so `channel_means` can be passed as is) and saturated to 0..255.
    Returns (K, 3, out_size, out_size) uint8 on the image's device.
    """
    _check_image(image)
    if out_size < 2:
        raise ValueError(f"crop_square_windows: out_size must be >= 2, got {out_size}")
    if centers.ndim != 2 or centers.shape[1] != 2 or sides.shape != (len(centers),):
        raise ValueError(f"crop_square_windows: expected centers (K, 2) and sides (K,), "
                         f"got {tuple(centers.shape)} and {tuple(sides.shape)}")
    count = len(centers)
    device = image.device
    fill = torch.as_tensor(fill, device=device)
    if fill.shape == (3,):
        fill = fill.expand(count, 3)
    if fill.shape != (count, 3):
        raise ValueError(f"crop_square_windows: fill must have shape (3,) or ({count}, 3), got {tuple(fill.shape)}")
    fill = fill.to(torch.float64).trunc().clamp(0, 255).to(torch.uint8)

    centers = centers.to(device=device, dtype=torch.float32)
    half = (sides.to(device=device, dtype=torch.float32) - 1) / 2
    start = centers - half[:, None]
    step = (centers + half[:, None] - start) / (out_size - 1)

    positions = torch.arange(out_size, device=device, dtype=torch.float32)
    fused = _fma32(step[:, :1], positions, start[:, :1])
    unfused = positions * step[:, :1] + start[:, :1]
    vector = positions < out_size // VECTOR_COLUMNS * VECTOR_COLUMNS
    x = torch.where(vector, fused, unfused)
    y = positions * step[:, 1:] + start[:, 1:]
    return _bilinear(image, x, y, fill)


def _check_image(image: torch.Tensor) -> None:
    if image.dtype != torch.uint8 or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) uint8 image, got {tuple(image.shape)} {image.dtype}")


def _fma32(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """float32 ``a * b + c`` with one rounding, as a hardware FMA gives it.

    The product of two float32 is exact in float64; the float64 sum is made round-to-odd (its error by TwoSum),
    and a round-to-odd result with >= 2 more bits than float32 rounds to float32 correctly (Boldo and Melquiond,
    "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to odd", IEEE TC 2008).
    """
    product = a.double() * b.double()
    addend = c.double()
    total = product + addend
    virtual = total - product
    error = (product - (total - virtual)) + (addend - virtual)
    bits = total.view(torch.int64)
    toward_zero = (error != 0) & ((error < 0) != (total < 0))
    odd = (bits - toward_zero.long()) | (error != 0).long()
    return odd.view(torch.float64).float()


def _bilinear(image: torch.Tensor, x: torch.Tensor, y: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """(K, 3, S, S) uint8 samples of `image` at source columns x (K, S) and rows y (K, S), taps outside = fill."""
    _, height, width = image.shape
    count, size = x.shape
    ix = torch.floor(x)
    iy = torch.floor(y)
    alpha = (x - ix).double()[:, None, None, :]
    beta = (y - iy).double()[:, None, :, None]
    ix = ix.long()
    iy = iy.long()
    source = torch.cat([image.reshape(3, height * width), fill.T], dim=1)
    outside = torch.arange(height * width, height * width + count, device=image.device)[:, None, None]

    def taps(dy: int, dx: int) -> torch.Tensor:
        rows, cols = iy + dy, ix + dx
        valid = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
        index = torch.where(valid, rows[:, :, None] * width + cols[:, None, :], outside)
        return source[:, index.reshape(-1)].reshape(3, count, size, size).transpose(0, 1).double()

    p00, p01, p10, p11 = taps(0, 0), taps(0, 1), taps(1, 0), taps(1, 1)
    top = (p00 + alpha * (p01 - p00)).float()
    bottom = (p10 + alpha * (p11 - p10)).float()
    value = (top.double() + beta * (bottom - top).double()).float()
    return torch.round(value).clamp(0, 255).to(torch.uint8)
