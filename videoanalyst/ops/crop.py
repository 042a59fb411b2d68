"""Square-window crops for Siamese trackers: video_analyst's cv2 crop, or a batched torch kernel for any device.

video_analyst (megvii-research/video_analyst, ``videoanalyst/pipeline/utils/crop.py``, ``get_subwindow_tracking``)
crops with ``cv2.warpAffine(im, M, (out, out), INTER_LINEAR | WARP_INVERSE_MAP, BORDER_CONSTANT, fill)``, M built
in float32 from the window's corners (``bbox.py``, ``cxywh2xyxy``). `crop_square_windows` makes that very call
(backend "opencv"), or runs a batched torch kernel (backend "torch") with OpenCV 5.0's rounding, its AVX2 8UC3
kernel, bit for bit, within one grey level of any OpenCV 5. The kernel reproduces OpenCV 5.0's 8UC3 bilinear
kernel (opencv/opencv ``modules/imgproc/src/warp_kernels.simd.hpp``, ``warpAffineLinearInvoker_8UC3``, with the
macros of ``warp_common.vector.hpp`` and ``warp_common.scalar.hpp``) as dispatched on x86-64 with AVX2:

- M is cast to float32. Rows: ``sy = float(float(y * M4) + M5)``, two roundings, in the vector loop and the tail.
- Columns, in blocks of 16 (two AVX2 registers): ``sx = fma(M0, x, M2)``, one rounding. The last ``out % 16``
  columns of a row go through the scalar tail: ``sx = float(float(x * M0) + M2)``, two roundings.
- ``ix = floor(sx)``, ``a = sx - ix`` in float32 (likewise ``iy``, ``b``); a tap outside the image reads the fill.
- ``top = fma(a, p01 - p00, p00)``, ``bottom = fma(a, p11 - p10, p10)``, ``v = fma(b, bottom - top, top)`` in
  float32 (the scalar tail is compiled to the same fused operations); ``v`` is rounded half to even.

torch has no float32 FMA. Each one is formed in float64, where the product of the float32 operands is exact, and
rounded to float32 by way of round-to-odd, which gives the correctly rounded result in every case. On CPU a chunk
of windows whose weights are proven to keep the float64 sums exact skips the rounding to odd, and one whose column
weights have at most 16 significant bits computes the first two FMAs in float32 (product exact, one rounding).

Other OpenCV builds compute the source coordinates and the bilinear value with other roundings (OpenCV 5.1 reads
M's float64 bits, which 5.0 rounds to float32), so they part from the kernel by one grey level where the value lies
within a rounding of a half: OpenCV 5.1 in a few values of one crop in five (38 of the 181 recorded in
tests/ops/data); an OpenCV built for ARM or for x86-64 without AVX2, which splits rows at 8 columns instead of 16,
in a few pixels of the last 15 columns. (OpenCV 4 quantises source coordinates to 1/32 px and parts by more.)
Trackers that promise video_analyst's own crops use the "opencv" backend.

On CPU the "auto" backend crops with cv2 itself, one window at a time: it is about 10x faster there than the
batched torch kernel (evaluation/crop_speed.py), which is for frames that already live on a GPU.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import torch

#: Who crops: "opencv" (``cv2.warpAffine``, video_analyst's call, the installed OpenCV's rounding; an image on
#: another device is copied to the host and the crops back), "torch" (the batched kernel on the image's device,
#: OpenCV 5.0's rounding), "auto" (opencv on CPU, torch elsewhere).
CropBackend = Literal["auto", "opencv", "torch"]

#: Destination pixels per step of OpenCV's AVX2 warp loop; the remaining ``out % 16`` columns are the scalar tail.
VECTOR_COLUMNS = 16

#: Output values (4 a pixel) interpolated at once: bounds the working memory (~60 bytes a value) and keeps it in
#: cache on CPU (two windows of 303 px a chunk, 7x faster there than one chunk of 64); on a GPU one chunk
#: takes 64 such windows.
_CHUNK_VALUES = {"cpu": 1 << 20, "cuda": 1 << 25}

#: Added to an out-of-image row or column offset so that the sum marks the tap as outside.
_OUTSIDE = 1 << 40


def window_sides(
    sizes: torch.Tensor, exemplar_size: int, out_size: int, context_amount: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Crop side and scale of K targets, as video_analyst's ``get_crop`` computes them.

    sizes: (K, 2) target (w, h); the arithmetic stays in their float precision (video_analyst keeps sizes in float32,
    so float32 sizes give its scales to the last bit; torch's float32 CPU square root is not correctly rounded, so
    the root is taken in float64). Returns sides (K,), ``out_size / scale`` rounded half to even like Python's
    ``round``, and scales (K,), ``exemplar_size / sqrt(wc * hc)`` unrounded, where
    ``wc = w + context_amount * (w + h)`` and ``hc`` likewise (video_analyst ``pipeline/utils/crop.py``).
    """
    if sizes.ndim != 2 or sizes.shape[1] != 2:
        raise ValueError(f"window_sides: sizes must have shape (K, 2) (w, h), got {tuple(sizes.shape)}")
    w, h = (sizes if sizes.is_floating_point() else sizes.to(torch.float64)).unbind(1)
    context = context_amount * (w + h)
    area = (w + context) * (h + context)
    scales = _divide(exemplar_size, torch.sqrt(area.double()).to(area.dtype))  # correctly rounded, as NumPy's
    return torch.round(_divide(out_size, scales)), scales


def channel_means(image: torch.Tensor) -> torch.Tensor:
    """(3,) float64 mean of each channel of a (3, H, W) uint8 image, video_analyst's ``np.mean(im, axis=(0, 1))``.

    The sums are integers below 2**53, exact in any order, so the means equal numpy's to the last bit.
    """
    _check_image(image)
    return _divide(image.sum(dim=(1, 2), dtype=torch.float64), image.shape[1] * image.shape[2])


def crop_square_windows(
    image: torch.Tensor,
    centers: torch.Tensor,
    sides: torch.Tensor,
    out_size: int,
    fill: torch.Tensor,
    backend: CropBackend = "auto",
) -> torch.Tensor:
    """K square windows of one frame resized to ``out_size`` px, equal to video_analyst's ``get_subwindow_tracking``.

    image: (3, H, W) uint8 in any channel order, on any device (on CPU, best a view of an (H, W, 3) array, as
    `FramePacket.tensor` gives: OpenCV then reads it without a copy). centers: (K, 2) (cx, cy) and sides: (K,)
    float64 in pixels (pixel i has coordinate i, as in cv2). fill: (3,) or (K, 3) border values in the image's
    channel order, integer or float: they are truncated toward zero like ``int()`` (so `channel_means` can be passed
    as it is) and saturated to 0..255, as cv2 does with the integer border value. backend: `CropBackend`; "opencv"
    gives the installed cv2's crops bit for bit, "torch" OpenCV 5.0's, within one grey level of any OpenCV 5.
    Returns (K, 3, out_size, out_size) uint8 on the image's device.
    """
    _check_image(image)
    if out_size < 2:
        raise ValueError(f"crop_square_windows: out_size must be >= 2, got {out_size}")
    if centers.ndim != 2 or centers.shape[1] != 2 or sides.shape != (len(centers),):
        raise ValueError(
            f"crop_square_windows: expected centers (K, 2) and sides (K,), "
            f"got {tuple(centers.shape)} and {tuple(sides.shape)}"
        )
    count = len(centers)
    device = image.device
    fill = torch.as_tensor(fill, device=device)
    if fill.shape == (3,):
        fill = fill.expand(count, 3)
    if fill.shape != (count, 3):
        raise ValueError(f"crop_square_windows: fill must have shape (3,) or ({count}, 3), got {tuple(fill.shape)}")
    fill = fill.to(torch.float64).trunc().clamp(0, 255).to(torch.uint8)
    if backend == "auto":
        backend = "opencv" if device.type == "cpu" else "torch"
    if backend == "opencv":
        return _crop_opencv(image.cpu(), centers.cpu(), sides.cpu(), out_size, fill.cpu()).to(device)
    if backend != "torch":
        raise ValueError(f"crop_square_windows: backend must be 'auto', 'opencv' or 'torch', got {backend!r}")
    x, y = _source_coordinates(centers.to(device), sides.to(device), out_size)
    return _interpolate(image, x, y, fill)


def _divide(numerator: torch.Tensor | float, denominator: torch.Tensor | float) -> torch.Tensor:
    """Correctly rounded division with a Python number on either side: torch turns ``number / tensor`` into a
    reciprocal times the number, and on CUDA ``tensor / number`` too, two roundings instead of numpy's one."""
    like = numerator if isinstance(numerator, torch.Tensor) else denominator
    return torch.div(torch.as_tensor(numerator).to(like), torch.as_tensor(denominator).to(like))


def _check_image(image: torch.Tensor) -> None:
    if image.dtype != torch.uint8 or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"expected a (3, H, W) uint8 image, got {tuple(image.shape)} {image.dtype}")


def _crop_opencv(
    image: torch.Tensor, centers: torch.Tensor, sides: torch.Tensor, out_size: int, fill: torch.Tensor
) -> torch.Tensor:
    """The crops by video_analyst's own call, ``cv2.warpAffine`` with the inverse map of `_window_affine`, of a CPU
    image (a (3, H, W) view of (H, W, 3) memory is read without a copy)."""
    start, step = (values.double().numpy() for values in _window_affine(centers, sides, out_size))
    frame = np.ascontiguousarray(image.permute(1, 2, 0).numpy())
    crops = np.empty((len(centers), out_size, out_size, 3), dtype=np.uint8)
    for k, border in enumerate(fill.tolist()):
        matrix = np.array([[step[k, 0], 0.0, start[k, 0]], [0.0, step[k, 1], start[k, 1]]])
        cv2.warpAffine(
            frame,
            matrix,
            (out_size, out_size),
            dst=crops[k],
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=tuple(border),
        )
    return torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous()


def _window_affine(centers: torch.Tensor, sides: torch.Tensor, out_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """float32 (K, 2) source position of destination pixel 0 and step per destination pixel, x and y: the
    inverse map video_analyst builds. The corners follow ``cxywh2xyxy`` in float32 (``x0 = cx - (side - 1) / 2``,
    ``x1 = cx + (side - 1) / 2``) and ``M0 = (x1 - x0) / (S - 1)`` stays float32, as numpy 2 keeps float32 when a
    Python int meets a float32 scalar."""
    centers = centers.to(torch.float32)
    half = (sides.to(torch.float32) - 1) / 2
    start = centers - half[:, None]
    return start, _divide(centers + half[:, None] - start, out_size - 1)


def _source_coordinates(centers: torch.Tensor, sides: torch.Tensor, out_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """float32 source columns x (K, S) and rows y (K, S) of the S = `out_size` destination columns and rows
    (`_window_affine`'s map, evaluated as OpenCV's AVX2 loop evaluates it)."""
    start, step = _window_affine(centers, sides, out_size)
    positions = torch.arange(out_size, device=centers.device, dtype=torch.float32)
    fused = _fma32(step[:, :1], positions, start[:, :1])
    unfused = positions * step[:, :1] + start[:, :1]
    x = torch.where(positions < out_size // VECTOR_COLUMNS * VECTOR_COLUMNS, fused, unfused)
    y = positions * step[:, 1:] + start[:, 1:]
    return x, y


def _fma32(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """float32 ``a * b + c`` rounded once, as a hardware FMA computes it (float32 inputs, broadcastable)."""
    return _round_sum(a.double() * b.double(), c.double(), exact=True)


def _round_sum(product: torch.Tensor, addend: torch.Tensor, exact: bool) -> torch.Tensor:
    """float32 rounding of ``product + addend``, both float64, `product` overwritten.

    With `exact` False the float64 sum must be exact. Else TwoSum gives its error and the sum is rounded to odd
    (to the float64 neighbour with an odd last bit when inexact) before the rounding to float32; that double
    rounding is correct since float64 has more than 24 + 1 bits (Boldo and Melquiond, "Emulation of FMA and
    correctly rounded sums: proved algorithms using rounding to odd", IEEE Trans. Computers 57(4), 2008).
    """
    if not exact:
        return product.add_(addend).to(torch.float32)
    total = product + addend
    virtual = total - product
    error = product.sub_(total - virtual).add_(virtual.neg_().add_(addend))
    inexact = error != 0
    toward_zero = inexact & ((error < 0) != (total < 0))
    total.view(torch.int64).sub_(toward_zero.view(torch.uint8)).bitwise_or_(inexact.view(torch.uint8))
    return total.to(torch.float32)


def _interpolate(
    image: torch.Tensor, x: torch.Tensor, y: torch.Tensor, fill: torch.Tensor, shortcuts: bool | None = None
) -> torch.Tensor:
    """(K, 3, S, S) uint8 bilinear samples of `image` at source columns x (K, S) and rows y (K, S), both float32;
    taps outside the image read the window's fill (K, 3) uint8.

    With `shortcuts` (the default on CPU, where checking costs no device sync) each chunk of windows takes the
    cheapest arithmetic proven exact for its weights; without, the round-to-odd float64 arithmetic, exact for any.
    """
    _, height, width = image.shape
    count, size = x.shape
    on_cpu = image.device.type == "cpu"
    shortcuts = on_cpu if shortcuts is None else shortcuts
    ix, iy = torch.floor(x), torch.floor(y)
    alpha, beta = x - ix, y - iy
    ix, iy = ix.long(), iy.long()
    columns, rows = _relevant(ix, width), _relevant(iy, height)
    needs_round_to_odd = (_below(alpha, 2.0**-45) & columns).any(dim=1) | (_below(beta, 2.0**-28) & rows).any(dim=1)
    wide_alpha = (((alpha.view(torch.int32) & 0xFF) != 0) & columns).any(dim=1)

    pixels = _pixel_words(image, fill)
    row_offsets = [_offsets(iy + dy, height, width) for dy in (0, 1)]
    column_offsets = [_offsets(ix + dx, width, 1) for dx in (0, 1)]
    fill_pixels = torch.arange(height * width, height * width + count, device=image.device)
    inside = (torch.cat(row_offsets + column_offsets, dim=1) < _OUTSIDE).all(dim=1)
    out = torch.empty(count, size, size, 4, dtype=torch.uint8, device=image.device)
    chunk = max(1, _CHUNK_VALUES["cpu" if on_cpu else "cuda"] // (4 * size * size))
    for first in range(0, count, chunk):
        part = slice(first, first + chunk)
        exact = not shortcuts or bool(needs_round_to_odd[part].any())
        narrow = shortcuts and not bool(wide_alpha[part].any())
        all_inside = shortcuts and bool(inside[part].all())

        def taps(dy: int, dx: int) -> torch.Tensor:
            flat = row_offsets[dy][part, :, None] + column_offsets[dx][part, None, :]
            if not all_inside:
                flat = torch.where(flat < _OUTSIDE, flat, fill_pixels[part, None, None])
            words = pixels.index_select(0, flat.view(-1))
            return words.view(torch.uint8).view(*flat.shape, 4).to(torch.float32)

        a = alpha[part, None, :, None].expand(-1, -1, -1, 4).contiguous()  # contiguous rows broadcast faster
        top, bottom = (_lerp_taps(taps(dy, 0), taps(dy, 1), a, exact, narrow) for dy in (0, 1))
        product = (bottom - top).to(torch.float64).mul_(beta[part, :, None, None].double())
        out[part] = _round_sum(product, top.to(torch.float64), exact).round_().to(torch.int32)
    return out[..., :3].permute(0, 3, 1, 2).contiguous()


def _lerp_taps(
    left: torch.Tensor, right: torch.Tensor, weight: torch.Tensor, exact: bool, narrow: bool
) -> torch.Tensor:
    """float32 ``fma(weight, right - left, left)`` of taps holding integers 0..255 (float32), float32 weights.

    `narrow` weights (at most 16 significant bits) make the float32 product exact, so one float32 addition rounds
    once, as the FMA does. Otherwise the sum is formed in float64, where the product is exact and the sum too
    unless a weight is below 2**-22 (`exact` then rounds it to odd).
    """
    if narrow:
        return right.sub_(left).mul_(weight).add_(left)
    left = left.to(torch.float64)
    return _round_sum(right.to(torch.float64).sub_(left).mul_(weight.double()), left, exact)


def _pixel_words(image: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """(H * W + K,) int32: each pixel's 3 bytes and a spare one, so that a tap is one 4-byte gather; the fill of
    window k is word H * W + k, where its outside taps point."""
    _, height, width = image.shape
    words = torch.empty(height * width + len(fill), 4, dtype=torch.uint8, device=image.device)
    for channel in range(3):  # a copy per channel: several times faster than one copy of a (H * W, 3) view
        words[: height * width, channel] = image[channel].reshape(-1)
    words[height * width :, :3] = fill
    return words.view(torch.int32).view(-1)


def _relevant(indices: torch.Tensor, limit: int) -> torch.Tensor:
    """Rows or columns with a tap (index or index + 1) inside ``[0, limit)``; the others read the fill alone, so
    their weights multiply zero and never matter."""
    return (indices >= -1) & (indices < limit)


def _below(weights: torch.Tensor, resolution: float) -> torch.Tensor:
    """Weights with a set bit below `resolution` (a power of two).

    With column weights' bits at or above 2**-45 the top and bottom sums (< 2**8) fit float64's 53 bits; with row
    weights' at or above 2**-28 the final one does too: its product ``b * (bottom - top)`` has bits from
    2**(E - 52) up, E the top bit of the larger operand, because ``|bottom - top|`` or the smaller operand is at
    least 2**(E - 1). Only sources within 2**-22 (columns) or about 1/32 (rows) above an integer break this.
    """
    return torch.frac(weights / resolution) != 0


def _offsets(indices: torch.Tensor, limit: int, stride: int) -> torch.Tensor:
    """Flat offsets ``indices * stride`` of rows or columns, `_OUTSIDE` where an index is outside ``[0, limit)``."""
    inside = (indices >= 0) & (indices < limit)
    return torch.where(inside, indices * stride, _OUTSIDE)
