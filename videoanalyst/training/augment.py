"""The two crops of a training pair: the exemplar around the template's target, the search window shifted and
scaled at random around the search frame's target (video_analyst's `RandomCropTransformer`, megvii-research/
video_analyst videoanalyst/data/transformer/transformer_impl/random_crop_transformer.py and
videoanalyst/data/utils/crop_track_pair.py), then optional colour jitter and blur (ours; the published recipe has
none).

Boxes in: x, y, w, h in video_analyst's pixel convention (centre ``x + (w - 1) / 2``). Box out: the target in the
search crop as x1, y1, x2, y2 corners with the inclusive convention ``w = x2 - x1 + 1`` (its ``cxywh2xyxy``), which
the target assignment and the IoU loss use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torchvision.transforms import functional as F

from videoanalyst.models.siamfcpp.network import EXEMPLAR_SIZE
from videoanalyst.ops.crop import channel_means, crop_square_windows

#: Draws of a valid shift and scale before giving up and cropping without them (crop_track_pair's _MAX_RETRY).
MAX_RETRY = 50


@dataclass(frozen=True)
class PairWindows:
    """Where the crops of a pair are taken, in image pixels, and where the target lands in the search crop.

    Args:
        exemplar_center, search_center: (2,) float64 window centres x, y.
        exemplar_side, search_side: window sides, unrounded (video_analyst crops training pairs at these).
        search_box: (4,) float64 x1, y1, x2, y2 of the search target in the search crop (inclusive convention).
    """

    exemplar_center: np.ndarray
    exemplar_side: float
    search_center: np.ndarray
    search_side: float
    search_box: np.ndarray


def context_side(size: np.ndarray, context_amount: float) -> float:
    """Side of the square that frames a (w, h) target with context: ``sqrt((w + c (w + h)) (h + c (w + h)))``."""
    context = context_amount * (size[0] + size[1])
    return math.sqrt((size[0] + context) * (size[1] + context))


def pair_windows(
    template_box: np.ndarray,
    search_box: np.ndarray,
    rng: np.random.Generator,
    search_size: int,
    context_amount: float,
    max_shift: float,
    max_scale: float,
) -> PairWindows:
    """The crop windows of a pair, as crop_track_pair places them.

    The exemplar window is centred on the template target with side `context_side` (no augmentation:
    video_analyst's max_shift_temp = max_scale_temp = 0). The search window takes the search target's context
    side times `search_size / 127`, scaled by a factor uniform in [1 / (1 + max_scale), 1 + max_scale], its centre
    moved by up to `max_shift` of half its side each way. Draws that put either target's box past its crop's
    border are redrawn, up to `MAX_RETRY` times, then the window is taken unshifted and unscaled.
    """
    template_size, search_wh = template_box[2:], search_box[2:]
    template_center = template_box[:2] + (template_size - 1) / 2
    exemplar_side = context_side(template_size, context_amount)
    exemplar_half = (template_size * EXEMPLAR_SIZE / exemplar_side - 1) / 2
    exemplar_fits = bool(np.all(exemplar_half <= (EXEMPLAR_SIZE - 1) / 2))
    base_scale = EXEMPLAR_SIZE / context_side(search_wh, context_amount)
    for attempt in range(MAX_RETRY + 1):
        augment = attempt < MAX_RETRY
        scale = base_scale / (rng.uniform(1 / (1 + max_scale), 1 + max_scale) if augment else 1.0)
        side = search_size / scale
        shift = rng.uniform(-max_shift, max_shift, 2) * side / 2 if augment else np.zeros(2)
        center_in_crop = (search_size - 1) / 2 + shift * scale
        half = (search_wh * scale - 1) / 2
        box = np.concatenate([center_in_crop - half, center_in_crop + half])
        if exemplar_fits and np.all((box >= 0) & (box <= search_size - 1)):
            break
    search_center = search_box[:2] + (search_wh - 1) / 2 - shift
    return PairWindows(template_center, exemplar_side, search_center, side, box)


def crop_pair(
    template_image: np.ndarray, search_image: np.ndarray, windows: PairWindows, search_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(3, 127, 127) and (3, X, X) uint8 RGB crops of two (H, W, 3) uint8 RGB frames, by `crop_square_windows`
    (video_analyst's get_subwindow_tracking), the border filled with the template frame's integer channel means
    for both crops, as crop_track_pair does."""
    template, search = (
        torch.from_numpy(np.array(image.transpose(2, 0, 1), order="C")) for image in (template_image, search_image)
    )  # a (3, H, W) copy: frames may be read-only
    fill = channel_means(template)  # crop_square_windows truncates it like int(), as video_analyst's border
    exemplar = crop_square_windows(
        template,
        torch.from_numpy(windows.exemplar_center[None]),
        torch.tensor([windows.exemplar_side], dtype=torch.float64),
        EXEMPLAR_SIZE,
        fill,
    )
    crop = crop_square_windows(
        search,
        torch.from_numpy(windows.search_center[None]),
        torch.tensor([windows.search_side], dtype=torch.float64),
        search_size,
        fill,
    )
    return exemplar[0], crop[0]


def photometric(
    crop: torch.Tensor, rng: np.random.Generator, color_jitter: float, blur_probability: float, blur_sigma: float
) -> torch.Tensor:
    """(3, h, w) uint8 RGB crop with brightness, contrast and saturation scaled by factors uniform in
    [1 - color_jitter, 1 + color_jitter], then, with probability `blur_probability`, a Gaussian blur of sigma
    uniform in [0.1, blur_sigma] (torchvision's functional ops; every draw from `rng`)."""
    if color_jitter > 0:
        brightness, contrast, saturation = rng.uniform(1 - color_jitter, 1 + color_jitter, 3)
        crop = F.adjust_saturation(F.adjust_contrast(F.adjust_brightness(crop, brightness), contrast), saturation)
    if blur_probability > 0 and rng.random() < blur_probability:
        sigma = float(rng.uniform(min(0.1, blur_sigma), blur_sigma))
        kernel = 2 * math.ceil(3 * sigma) + 1
        crop = F.gaussian_blur(crop, [kernel, kernel], [sigma, sigma])
    return crop
