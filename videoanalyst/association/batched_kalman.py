"""Linear Kalman filter steps for many tracks at once: (N, D) means and (N, D, D) covariances, one array op per step.

The trackers' motion models (`kalman_xysr.py`, `kalman_xyah.py`) supply the matrices; this module only does the
algebra, in the order filterpy's `KalmanFilter` does it, so a batch of N tracks equals N filterpy filters.
"""

from __future__ import annotations

import numpy as np


def kalman_predict(mean: np.ndarray, covariance: np.ndarray, motion: np.ndarray,
                   process_noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x' = F x and P' = F P F^T + Q for every track.

    Args:
        mean: (N, D) states.
        covariance: (N, D, D) state covariances.
        motion: (D, D) transition matrix F, shared by all tracks.
        process_noise: (D, D) shared or (N, D, D) per-track process noise Q.
    """
    mean = mean @ motion.T
    covariance = motion @ covariance @ motion.T + process_noise
    return mean, covariance


def kalman_update(mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray, observation: np.ndarray,
                  measurement_noise: np.ndarray, joseph_form: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Correct every track with its measurement z: K = P H^T S^-1, x' = x + K (z - H x).

    Args:
        mean: (N, D) states; covariance: (N, D, D).
        measurement: (N, M) one measurement per track.
        observation: (M, D) observation matrix H.
        measurement_noise: (M, M) shared or (N, M, M) per-track measurement noise R.
        joseph_form: P' = (I - K H) P (I - K H)^T + K R K^T, filterpy's form, which stays symmetric positive;
            False gives P' = P - K S K^T, the form DeepSORT and ByteTrack use.
    """
    projected_covariance = covariance @ observation.T  # P H^T, (N, D, M)
    innovation_covariance = observation @ projected_covariance + measurement_noise  # S, (N, M, M)
    gain = projected_covariance @ np.linalg.inv(innovation_covariance)  # K, (N, D, M)
    innovation = measurement - mean @ observation.T
    mean = mean + (gain @ innovation[:, :, None])[:, :, 0]
    if joseph_form:
        keep = np.eye(mean.shape[1]) - gain @ observation
        covariance = keep @ covariance @ keep.transpose(0, 2, 1) + gain @ measurement_noise @ gain.transpose(0, 2, 1)
    else:
        covariance = covariance - gain @ innovation_covariance @ gain.transpose(0, 2, 1)
    return mean, covariance


def mahalanobis_squared(mean: np.ndarray, covariance: np.ndarray, measurements: np.ndarray,
                        observation: np.ndarray, measurement_noise: np.ndarray) -> np.ndarray:
    """(N, K) squared Mahalanobis distance of K measurements to each of N projected track states (gating).

    Uses the Cholesky factor of S = H P H^T + R, as DeepSORT's `gating_distance` does.
    """
    projected_mean = mean @ observation.T  # (N, M)
    innovation_covariance = observation @ covariance @ observation.T + measurement_noise  # (N, M, M)
    factor = np.linalg.cholesky(innovation_covariance)
    difference = measurements[None, :, :] - projected_mean[:, None, :]  # (N, K, M)
    solved = np.linalg.solve(factor, difference.transpose(0, 2, 1))  # L^-1 d, (N, M, K)
    return np.sum(solved * solved, axis=1)
