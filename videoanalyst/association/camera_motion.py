"""Camera-motion compensation: the ECC warp between consecutive frames, and boxes moved by it.

Tracktor aligns its tracks with OpenCV's ECC (enhanced correlation coefficient) image registration before it
regresses them (phil-bergmann/tracking_wo_bnw 446abc7, src/tracktor/tracker.py `align`, utils.py `warp_pos`).
"""

from __future__ import annotations

import warnings
from typing import Literal

import cv2
import numpy as np

from videoanalyst.errors import ConfigError

WarpMode = Literal["translation", "euclidean", "affine"]

_MOTION_TYPES = {"translation": cv2.MOTION_TRANSLATION, "euclidean": cv2.MOTION_EUCLIDEAN,
                 "affine": cv2.MOTION_AFFINE}


def estimate_camera_motion(previous: np.ndarray, current: np.ndarray, *, mode: WarpMode = "euclidean",
                           iterations: int = 100, epsilon: float = 1e-5, scale: float = 1.0) -> np.ndarray:
    """(2, 3) float64 warp W with ``W @ [x, y, 1]`` = where previous-frame pixel (x, y) lies in the current frame.

    Args:
        previous, current: (H, W, 3) uint8 RGB frames of the same size.
        mode: the warp's degrees of freedom: "translation" (2), "euclidean" (rotation + translation, 3, the
            reference's MOTION_EUCLIDEAN), "affine" (6). More freedom fits more camera motion and costs more.
        iterations: most ECC iterations; raising it helps large motions converge, at a cost per frame.
        epsilon: ECC stops when the correlation gains less than this in an iteration; lowering it refines more.
        scale: estimate on both frames resized by this factor (< 1 is faster, coarser); the translation is
            scaled back to full-resolution pixels.

    ECC that does not converge gives the identity warp and a RuntimeWarning, not an error: one bad frame pair
    should leave the tracks where they were rather than stop a stream.
    """
    if mode not in _MOTION_TYPES:
        raise ConfigError(f"camera motion mode must be one of {sorted(_MOTION_TYPES)}, got {mode!r}")
    if not 0 < scale <= 1:
        raise ConfigError(f"camera motion scale must be in (0, 1], got {scale}")
    if previous.shape != current.shape:
        raise ValueError(f"frames differ in size: {previous.shape} and {current.shape}")
    previous_grey, current_grey = (_grey(frame, scale) for frame in (previous, current))
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, epsilon)
    try:
        _, warp = cv2.findTransformECC(previous_grey, current_grey, warp, _MOTION_TYPES[mode], criteria, None, 5)
    except cv2.error as error:
        warnings.warn(f"camera motion: ECC did not converge ({str(error).strip().splitlines()[-1]}); "
                      f"assuming a still camera for this frame", RuntimeWarning, stacklevel=2)
        return np.eye(2, 3)
    warp = warp.astype(np.float64)
    warp[:, 2] *= np.array(previous.shape[1::-1]) / previous_grey.shape[::-1]
    return warp


def warp_boxes(xyxy: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """(N, 4) boxes x1, y1, x2, y2 with both corners mapped by the (2, 3) `warp`, as the reference's `warp_pos`."""
    boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    corners = boxes.reshape(-1, 2, 2) @ warp[:, :2].T + warp[:, 2]
    return corners.reshape(-1, 4)


def _grey(frame: np.ndarray, scale: float) -> np.ndarray:
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if scale == 1:
        return grey
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
