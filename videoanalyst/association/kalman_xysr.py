"""SORT's constant-velocity box model: state (cx, cy, area, aspect, vcx, vcy, varea), aspect held constant.

Matrices as abewley/sort (2236dff, `sort.py`, `KalmanBoxTracker`) sets them up on filterpy; OC-SORT uses the same.
The matrix form takes and returns batches: (N, 7) means, (N, 7, 7) covariances, (N, 4) boxes x1, y1, x2, y2.
The block form (`to_blocks`, `predict_blocks`, `update_blocks`) is the same filter as four 2-state filters per
track, stepped in place by compiled loops (numba); SORT runs on it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

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


def to_blocks(mean: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """(N, 7) means and (N, 7, 7) covariances -> the (6, 4, N) blocks of `predict_blocks` and `update_blocks`.

    Every covariance that `initiate`, `predict` and `update` make is block-diagonal: cx, cy and the area each
    correlate only with their own velocity, the aspect with nothing. So a track is four 2-state filters, one for
    each measured value q in (cx, cy, area, aspect) (axis 1), each held as its 2 x 3 matrix [x | P] row by row:
    x_q, P_qq, P_qv, then x_v, P_vq, P_vv, with v the velocity of q. The aspect has no velocity: its rows 2-5
    stay 0. Tracks are the last axis, so that a row of all tracks is one contiguous array.
    """
    blocks = np.zeros((6, 4, len(mean)))
    blocks[0] = mean[:, :4].T
    blocks[1, 3] = covariance[:, 3, 3]
    for q in range(3):
        v = q + 4
        blocks[3, q] = mean[:, v]
        blocks[(1, 2, 4, 5), q] = covariance[:, (q, q, v, v), (q, v, q, v)].T
    return blocks


#: A new track's (6, 4, 1) blocks, its measurement still to go into row 0: `INITIAL_COVARIANCE`.
INITIAL_BLOCKS = to_blocks(np.zeros((1, 7)), INITIAL_COVARIANCE[None])
#: Q of each filter's value and velocity (cx, cy, area, aspect; the aspect has no velocity).
_VALUE_NOISE = tuple(float(v) for v in np.diag(PROCESS_NOISE)[:4])
_VELOCITY_NOISE = tuple(float(v) for v in np.diag(PROCESS_NOISE)[4:]) + (0.0,)
#: R of each measured value.
_MEASUREMENT_NOISE = tuple(float(v) for v in np.diag(MEASUREMENT_NOISE))


@njit(cache=True, error_model="numpy")
def predict_blocks(blocks: np.ndarray) -> None:
    """`predict` in place on (>= 6, 4, N) blocks (`to_blocks`; rows past 5 are left alone): the same numbers.

    With F = [[1, 1], [0, 1]] for each filter, F [x | P] adds the velocity's row to q's, and (F P) F^T adds
    column v of P to column q; filterpy's matrix products add the same two numbers in the same order (all other
    terms are exact zeros), so the results are equal to the bit. Compiled (numba): a loop over the tracks, no
    temporaries.
    """
    for n in range(blocks.shape[2]):
        if blocks[0, 2, n] + blocks[3, 2, n] <= 0:  # an area about to turn non-positive loses its velocity first
            blocks[3, 2, n] = 0.0
        for q in range(4):
            blocks[0, q, n] += blocks[3, q, n]  # F x
            blocks[1, q, n] += blocks[4, q, n]  # F P
            blocks[2, q, n] += blocks[5, q, n]
            blocks[1, q, n] += blocks[2, q, n]  # (F P) F^T
            blocks[4, q, n] += blocks[5, q, n]
            blocks[1, q, n] += _VALUE_NOISE[q]
            blocks[5, q, n] += _VELOCITY_NOISE[q]


@njit(cache=True, error_model="numpy")
def update_blocks(blocks: np.ndarray, measurement: np.ndarray) -> None:
    """`update` in place on (>= 6, 4, N) blocks from (4, N) measurements cx, cy, area, aspect; equal to it to
    rounding.

    For each filter S = P_qq + R is a number, and the gain K = (P_qq, P_vq) / S, multiplied by 1 / S as
    filterpy multiplies by inv(S); with that optimal gain the Joseph form of `update` equals P - K H P, where
    H P is row q of P. So row r of [x | P] loses K_r (x_q - z, P_qq, P_qv).
    """
    for n in range(blocks.shape[2]):
        for q in range(4):
            update_block(blocks, q, n, measurement[q, n])


@njit(cache=True, error_model="numpy")
def update_block(blocks: np.ndarray, q: int, n: int, z: float) -> None:
    """`update_blocks` for filter q of track n alone, from its measured value z."""
    inverse = 1.0 / (blocks[1, q, n] + _MEASUREMENT_NOISE[q])
    gain_value, gain_velocity = blocks[1, q, n] * inverse, blocks[4, q, n] * inverse
    residual, p_qq, p_qv = blocks[0, q, n] - z, blocks[1, q, n], blocks[2, q, n]
    blocks[0, q, n] -= gain_value * residual
    blocks[1, q, n] -= gain_value * p_qq
    blocks[2, q, n] -= gain_value * p_qv
    blocks[3, q, n] -= gain_velocity * residual
    blocks[4, q, n] -= gain_velocity * p_qq
    blocks[5, q, n] -= gain_velocity * p_qv
