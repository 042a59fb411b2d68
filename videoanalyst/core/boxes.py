"""Box conventions. xyxy: corners (x1, y1, x2, y2); xywh: top-left corner and size (x, y, w, h). Pixels, float."""

import numpy as np


def xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    """(..., 4) x, y, w, h -> (..., 4) x1, y1, x2, y2."""
    xywh = np.asarray(xywh, dtype=np.float32)
    return np.concatenate([xywh[..., :2], xywh[..., :2] + xywh[..., 2:4]], axis=-1)


def xyxy_to_xywh(xyxy: np.ndarray) -> np.ndarray:
    """(..., 4) x1, y1, x2, y2 -> (..., 4) x, y, w, h."""
    xyxy = np.asarray(xyxy, dtype=np.float32)
    return np.concatenate([xyxy[..., :2], xyxy[..., 2:4] - xyxy[..., :2]], axis=-1)


def polygon_to_xyxy(polygon: np.ndarray) -> np.ndarray:
    """(..., K, 2) polygon corners -> (..., 4) axis-aligned bounding box."""
    polygon = np.asarray(polygon, dtype=np.float32)
    return np.concatenate([polygon.min(axis=-2), polygon.max(axis=-2)], axis=-1)
