"""Training targets on the score map for one search crop, as video_analyst's `DenseboxTarget` assigns them
(megvii-research/video_analyst, videoanalyst/data/target/target_impl/densebox_target.py and
utils/make_densebox_target.py), for its single-box case."""

from __future__ import annotations

import torch

from videoanalyst.models.siamfcpp.network import score_map_points

#: Added to the centerness denominator (make_densebox_target's eps).
CENTERNESS_EPS = 1e-5


def densebox_targets(
    box: torch.Tensor, search_size: int, score_size: int, negative: bool = False, total_stride: int = 8
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Classification, centerness and box targets of the S x S score cells (row-major) for the target `box`.

    Args:
        box: (4,) x1, y1, x2, y2 of the target in search-crop pixels (inclusive convention, `pair_windows`).
        search_size, score_size, total_stride: the score cells sit at `score_map_points` (87 + 8 i at 303 px).
        negative: the crop comes from a negative pair.

    Returns:
        cls: (S*S,) float32: 1 where the cell lies strictly inside the box (all four distances to its sides
            > 0), else 0; for a negative pair 0 inside the box and -1 (ignored) elsewhere.
        ctr: (S*S,) float32 centerness ``sqrt(min(l, r) min(t, b) / (max(l, r) max(t, b) + 1e-5))`` inside the
            box, 0 elsewhere; the same for negative pairs (as video_analyst).
        boxes: (S*S, 4) float32: the box inside it, 0 elsewhere.
        All in float32, as video_analyst computes them.
    """
    points = score_map_points(search_size, score_size, total_stride)
    box = box.to(torch.float32)
    left, top = points[:, 0] - box[0], points[:, 1] - box[1]
    right, bottom = box[2] - points[:, 0], box[3] - points[:, 1]
    inside = (left > 0) & (top > 0) & (right > 0) & (bottom > 0)
    ratio = (torch.minimum(left, right) * torch.minimum(top, bottom)) / (
        torch.maximum(left, right) * torch.maximum(top, bottom) + CENTERNESS_EPS
    )
    ctr = torch.where(inside, ratio.abs().sqrt(), 0.0)
    boxes = torch.where(inside[:, None], box, 0.0)
    cls = torch.where(inside, 0.0, -1.0) if negative else inside.to(torch.float32)
    return cls, ctr, boxes
