"""SORT's box model equals filterpy's `KalmanFilter` set up as abewley/sort's `KalmanBoxTracker` sets it up (commit
2236dff, `sort.py`), step for step: initiate, predict (with its stop of a shrinking area) and update, on (N, 7)
means and (N, 7, 7) covariances and on the (6, 4, N) blocks."""

import numpy as np
from filterpy.kalman import KalmanFilter

from videoanalyst.association import kalman_xysr


def _sort_filter(box):
    """filterpy configured line by line as the original's `KalmanBoxTracker.__init__`."""
    kf = KalmanFilter(dim_x=7, dim_z=4)
    kf.F = np.array([[1, 0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0],
                     [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1]])
    kf.H = np.array([[1, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0]])
    kf.R[2:, 2:] *= 10.0
    kf.P[4:, 4:] *= 1000.0
    kf.P *= 10.0
    kf.Q[-1, -1] *= 0.01
    kf.Q[4:, 4:] *= 0.01
    kf.x[:4] = _z(box)
    return kf


def _z(box):
    """The original's `convert_bbox_to_z`."""
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2.0, box[1] + h / 2.0, w * h, w / float(h)]).reshape((4, 1))


def _predict(kf):
    """The original's `KalmanBoxTracker.predict` filter step: a shrinking area that would reach 0 stops first."""
    if kf.x[6] + kf.x[2] <= 0:
        kf.x[6] *= 0.0
    kf.predict()


def _boxes(rng, count):
    corner = rng.uniform(0, 1500, (count, 2))
    return np.concatenate([corner, corner + rng.uniform(10, 300, (count, 2))], axis=1)


def _assert_state(filters, mean, covariance):
    np.testing.assert_allclose(mean, np.stack([kf.x[:, 0] for kf in filters]), rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(covariance, np.stack([kf.P for kf in filters]), rtol=1e-10, atol=1e-8)


#: Where SORT's covariances may be non-zero: cx, cy and the area with themselves and their velocities; the aspect.
_BLOCK_DIAGONAL = np.zeros((7, 7), bool)
for _q, _v in ((0, 4), (1, 5), (2, 6)):
    _BLOCK_DIAGONAL[np.ix_((_q, _v), (_q, _v))] = True
_BLOCK_DIAGONAL[3, 3] = True


def _assert_blocks(filters, blocks):
    """The blocks hold the filters' whole state: their covariances are block-diagonal, and the blocks equal them."""
    mean, covariance = np.stack([kf.x[:, 0] for kf in filters]), np.stack([kf.P for kf in filters])
    assert not covariance[:, ~_BLOCK_DIAGONAL].any()
    np.testing.assert_allclose(blocks, kalman_xysr.to_blocks(mean, covariance), rtol=1e-10, atol=1e-8)


def test_initiate_predict_update_and_the_block_steps_equal_the_original_filter_step_for_step():
    rng = np.random.default_rng(0)
    boxes = _boxes(rng, 6)
    filters = [_sort_filter(box) for box in boxes]
    mean, covariance = kalman_xysr.initiate(boxes)
    _assert_state(filters, mean, covariance)
    blocks = kalman_xysr.INITIAL_BLOCKS.repeat(6, axis=2)
    blocks[0] = kalman_xysr.xyxy_to_xysr(boxes).T
    _assert_blocks(filters, blocks)
    for _ in range(60):
        for kf in filters:
            _predict(kf)
        mean, covariance = kalman_xysr.predict(mean, covariance)
        kalman_xysr.predict_blocks(blocks)
        _assert_state(filters, mean, covariance)
        _assert_blocks(filters, blocks)
        seen = np.flatnonzero(rng.random(6) < 0.7)  # the others miss this frame: predict only
        boxes = boxes + rng.normal(0, 3, boxes.shape)
        for k in seen:
            filters[k].update(_z(boxes[k]))
        mean[seen], covariance[seen] = kalman_xysr.update(mean[seen], covariance[seen], boxes[seen])
        matched = blocks[:, :, seen]
        kalman_xysr.update_blocks(matched, kalman_xysr.xyxy_to_xysr(boxes[seen]).T)
        blocks[:, :, seen] = matched
        _assert_state(filters, mean, covariance)
        _assert_blocks(filters, blocks)


def test_predict_blocks_adds_the_same_numbers_as_the_matrix_products():
    """F P F^T + Q by adds equals `predict` (matrix products) to the bit, on states after updates."""
    rng = np.random.default_rng(1)
    mean, covariance = kalman_xysr.initiate(_boxes(rng, 5))
    for _ in range(5):
        mean, covariance = kalman_xysr.predict(mean, covariance)
        mean, covariance = kalman_xysr.update(mean, covariance, _boxes(rng, 5))
    blocks = kalman_xysr.to_blocks(mean, covariance)
    kalman_xysr.predict_blocks(blocks)
    assert np.array_equal(blocks, kalman_xysr.to_blocks(*kalman_xysr.predict(mean, covariance)))


def test_a_shrinking_area_stops_before_it_turns_negative_as_the_original():
    box = np.array([[100.0, 100.0, 110.0, 110.0]])
    kf = _sort_filter(box[0])
    mean, covariance = kalman_xysr.initiate(box)
    kf.x[6] = mean[0, 6] = -150.0  # the area (100) would turn negative in one step
    blocks = kalman_xysr.to_blocks(mean, covariance)
    _predict(kf)
    mean, covariance = kalman_xysr.predict(mean, covariance)
    kalman_xysr.predict_blocks(blocks)
    assert mean[0, 6] == 0.0 and mean[0, 2] == 100.0
    _assert_state([kf], mean, covariance)
    _assert_blocks([kf], blocks)


def test_box_conversions_round_trip_and_give_nan_for_a_negative_area():
    boxes = np.array([[10.0, 20.0, 50.0, 100.0], [0.0, 0.0, 1.0, 3.0]])
    np.testing.assert_allclose(kalman_xysr.xyxy_to_xysr(boxes), [[30, 60, 3200, 0.5], [0.5, 1.5, 3, 1 / 3]])
    np.testing.assert_allclose(kalman_xysr.xysr_to_xyxy(kalman_xysr.xyxy_to_xysr(boxes)), boxes)
    assert np.isnan(kalman_xysr.xysr_to_xyxy(np.array([[5.0, 5.0, -4.0, 1.0]]))).all(axis=1)[0]
