"""SORT's constant-velocity box model: state (cx, cy, area, aspect, vcx, vcy, varea), aspect held constant.

Matrices as abewley/sort (2236dff, `sort.py`, `KalmanBoxTracker`) sets them up on filterpy; OC-SORT uses the same.
All functions take and return batches: (N, 7) means, (N, 7, 7) covariances, (N, 4) boxes x1, y1, x2, y2.
"""

from __future__ import annotations

import numpy as np

from videoanalyst.association.batched_kalman import kalman_predict, kalman_update

MOTION = np.eye(7) + np.eye(7, k=4)  # position += velocity for cx, cy, area; the aspect has no velocity
OBSERVATION = np.eye(4, 7)
#: R: area and aspect measurements are 10x noisier than the centre.
MEASUREMENT_NOISE = np.diag([1.0, 1.0, 10.0, 10.0])
#: Q: velocities change slowly (0.01), the area velocity slowest (1e-4).
PROCESS_NOISE = np.diag([1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 0.0001])
#: P at birth: the box is known to +-sqrt(10), its unobserved velocities hardly at all (1e4).
INITIAL_COVARIANCE = np.diag([10.0, 10.0, 10.0, 10.0, 1e4, 1e4, 1e4])


def xyxy_to_xysr(xyxy: np.ndarray) -> np.ndarray:
    """(N, 4) corners -> (N, 4) centre x, centre y, area, aspect (width / height)."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    width = xyxy[:, 2] - xyxy[:, 0]
    height = xyxy[:, 3] - xyxy[:, 1]
    return np.stack([xyxy[:, 0] + width / 2, xyxy[:, 1] + height / 2, width * height, width / height], axis=1)


def xysr_to_xyxy(state: np.ndarray) -> np.ndarray:
    """(N, >= 4) states -> (N, 4) corners; a negative area gives NaN, which SORT treats as a lost track."""
    state = np.asarray(state, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        width = np.sqrt(state[:, 2] * state[:, 3])
    height = state[:, 2] / width
    return np.stack([state[:, 0] - width / 2, state[:, 1] - height / 2,
                     state[:, 0] + width / 2, state[:, 1] + height / 2], axis=1)


def initiate(xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New tracks from (N, 4) boxes: zero velocity, `INITIAL_COVARIANCE`."""
    measurement = xyxy_to_xysr(xyxy)
    mean = np.zeros((len(measurement), 7))
    mean[:, :4] = measurement
    return mean, np.repeat(INITIAL_COVARIANCE[None], len(measurement), axis=0)


def predict(mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One frame ahead. An area about to turn non-positive loses its velocity first, as SORT does."""
    mean = mean.copy()
    mean[mean[:, 6] + mean[:, 2] <= 0, 6] = 0.0
    return kalman_predict(mean, covariance, MOTION, PROCESS_NOISE)


def update(mean: np.ndarray, covariance: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correct each track with its matched box (filterpy's Joseph-form update)."""
    return kalman_update(mean, covariance, xyxy_to_xysr(xyxy), OBSERVATION, MEASUREMENT_NOISE)


def fast_update(mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`update` from (N, 4) measurements cx, cy, area, aspect in a few array operations; equal to it to rounding.

    This model keeps P block-diagonal (cx, cy and area each correlate only with their own velocity, the aspect with
    nothing), so S = P[:4, :4] + R is diagonal and S^-1 is 1 / diag(S); and with that optimal gain the Joseph form
    of `update` equals P - K H P. The covariances must come from `initiate`, `predict` and these updates.
    """
    inverse = 1.0 / (covariance.reshape(-1, 49)[:, 0:25:8] + np.diag(MEASUREMENT_NOISE))  # 1 / diag(S)
    gain = covariance[:, :, :4] * inverse[:, None, :]  # K = P H^T S^-1, (N, 7, 4)
    innovation = measurement - mean[:, :4]
    mean = mean + (gain @ innovation[:, :, None])[:, :, 0]
    covariance = covariance - gain @ covariance[:, :4, :]  # H P is P's first four rows
    return mean, covariance
