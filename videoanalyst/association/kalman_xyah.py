"""DeepSORT's constant-velocity box model: state (cx, cy, aspect, height) and their velocities, noise scaled by height.

Constants and steps as nwojke/deep_sort (f08cf1d, `deep_sort/kalman_filter.py`); ByteTrack uses the same model.
All functions take and return batches: (N, 8) means, (N, 8, 8) covariances, (N, 4) boxes x1, y1, x2, y2.
"""

from __future__ import annotations

import numpy as np

from videoanalyst.association.batched_kalman import kalman_predict, kalman_update, mahalanobis_squared

MOTION = np.eye(8) + np.eye(8, k=4)
OBSERVATION = np.eye(4, 8)
#: Standard deviations per unit of box height: of a position, and of a velocity (per frame).
POSITION_WEIGHT = 1.0 / 20
VELOCITY_WEIGHT = 1.0 / 160
#: 0.95 quantile of the chi-square distribution by degrees of freedom: the Mahalanobis gate.
CHI2_95 = {1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877, 5: 11.070, 6: 12.592, 7: 14.067, 8: 15.507, 9: 16.919}


def xyxy_to_xyah(xyxy: np.ndarray) -> np.ndarray:
    """(N, 4) corners -> (N, 4) centre x, centre y, aspect (width / height), height."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    width = xyxy[:, 2] - xyxy[:, 0]
    height = xyxy[:, 3] - xyxy[:, 1]
    return np.stack([xyxy[:, 0] + width / 2, xyxy[:, 1] + height / 2, width / height, height], axis=1)


def xyah_to_xyxy(state: np.ndarray) -> np.ndarray:
    """(N, >= 4) states -> (N, 4) corners."""
    state = np.asarray(state, dtype=np.float64)
    height = state[:, 3]
    width = state[:, 2] * height
    return np.stack([state[:, 0] - width / 2, state[:, 1] - height / 2,
                     state[:, 0] + width / 2, state[:, 1] + height / 2], axis=1)


def _diagonal(std: np.ndarray) -> np.ndarray:
    """(N, D) standard deviations -> (N, D, D) diagonal covariances."""
    covariance = np.zeros(std.shape + (std.shape[1],))
    index = np.arange(std.shape[1])
    covariance[:, index, index] = std * std
    return covariance


def initiate(xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New tracks from (N, 4) boxes: zero velocity; uncertainty 2 (position) and 10 (velocity) weights x height."""
    measurement = xyxy_to_xyah(xyxy)
    height = measurement[:, 3]
    ones = np.ones_like(height)
    std = np.stack([2 * POSITION_WEIGHT * height, 2 * POSITION_WEIGHT * height, 1e-2 * ones,
                    2 * POSITION_WEIGHT * height, 10 * VELOCITY_WEIGHT * height, 10 * VELOCITY_WEIGHT * height,
                    1e-5 * ones, 10 * VELOCITY_WEIGHT * height], axis=1)
    mean = np.concatenate([measurement, np.zeros_like(measurement)], axis=1)
    return mean, _diagonal(std)


def process_noise(mean: np.ndarray) -> np.ndarray:
    """(N, 8, 8) Q, from each track's current height."""
    height = mean[:, 3]
    ones = np.ones_like(height)
    return _diagonal(np.stack([POSITION_WEIGHT * height, POSITION_WEIGHT * height, 1e-2 * ones,
                               POSITION_WEIGHT * height, VELOCITY_WEIGHT * height, VELOCITY_WEIGHT * height,
                               1e-5 * ones, VELOCITY_WEIGHT * height], axis=1))


def measurement_noise(mean: np.ndarray) -> np.ndarray:
    """(N, 4, 4) R, from each track's current height."""
    height = mean[:, 3]
    ones = np.ones_like(height)
    return _diagonal(np.stack([POSITION_WEIGHT * height, POSITION_WEIGHT * height, 1e-1 * ones,
                               POSITION_WEIGHT * height], axis=1))


def predict(mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One frame ahead; Q is taken from the height before the step, as the reference does."""
    return kalman_predict(mean, covariance, MOTION, process_noise(mean))


def update(mean: np.ndarray, covariance: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correct each track with its matched box: K = P H^T S^-1, P' = P - K S K^T."""
    return kalman_update(mean, covariance, xyxy_to_xyah(xyxy), OBSERVATION, measurement_noise(mean),
                         joseph_form=False)


def gating_distance(mean: np.ndarray, covariance: np.ndarray, xyxy: np.ndarray,
                    only_position: bool = False) -> np.ndarray:
    """(N, K) squared Mahalanobis distances of K boxes to N tracks; compare with `CHI2_95[4]` (or [2])."""
    measurements = xyxy_to_xyah(xyxy)
    noise = measurement_noise(mean)
    if not only_position:
        return mahalanobis_squared(mean, covariance, measurements, OBSERVATION, noise)
    return mahalanobis_squared(mean, covariance, measurements[:, :2], OBSERVATION[:2], noise[:, :2, :2])
