"""The batched Kalman steps equal filterpy's `KalmanFilter` (the reference SORT builds on), track by track."""

import numpy as np
from filterpy.kalman import KalmanFilter

from videoanalyst.association.batched_kalman import kalman_predict, kalman_update, mahalanobis_squared


def _random_filters(rng, count, dim_x=7, dim_z=4):
    motion = np.eye(dim_x) + np.diag(rng.uniform(0, 1, dim_x - dim_z), dim_z)
    observation = np.eye(dim_z, dim_x)
    filters = []
    for _ in range(count):
        kf = KalmanFilter(dim_x=dim_x, dim_z=dim_z)
        kf.F, kf.H = motion.copy(), observation.copy()
        root = rng.normal(size=(dim_x, dim_x))
        kf.P = root @ root.T + np.eye(dim_x)
        kf.Q = np.diag(rng.uniform(0.01, 1, dim_x))
        kf.R = np.diag(rng.uniform(1, 10, dim_z))
        kf.x = rng.normal(size=(dim_x, 1)) * 10
        filters.append(kf)
    return filters, motion, observation


def test_predict_and_update_equal_filterpy_step_for_step():
    rng = np.random.default_rng(0)
    filters, motion, observation = _random_filters(rng, count=5)
    mean = np.stack([kf.x[:, 0] for kf in filters])
    covariance = np.stack([kf.P for kf in filters])
    process_noise = np.stack([kf.Q for kf in filters])
    measurement_noise = np.stack([kf.R for kf in filters])
    for _ in range(20):
        for kf in filters:
            kf.predict()
        mean, covariance = kalman_predict(mean, covariance, motion, process_noise)
        np.testing.assert_allclose(mean, np.stack([kf.x[:, 0] for kf in filters]), rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(covariance, np.stack([kf.P for kf in filters]), rtol=1e-12, atol=1e-9)
        measurements = rng.normal(size=(5, 4)) * 10
        for kf, z in zip(filters, measurements):
            kf.update(z)
        mean, covariance = kalman_update(mean, covariance, measurements, observation, measurement_noise)
        np.testing.assert_allclose(mean, np.stack([kf.x[:, 0] for kf in filters]), rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(covariance, np.stack([kf.P for kf in filters]), rtol=1e-10, atol=1e-9)


def test_short_form_update_equals_joseph_form_for_the_optimal_gain():
    rng = np.random.default_rng(1)
    filters, motion, observation = _random_filters(rng, count=3, dim_x=8, dim_z=4)
    mean = np.stack([kf.x[:, 0] for kf in filters])
    covariance = np.stack([kf.P for kf in filters])
    noise = np.diag([1.0, 2.0, 3.0, 4.0])
    z = rng.normal(size=(3, 4))
    joseph = kalman_update(mean, covariance, z, observation, noise, joseph_form=True)
    short = kalman_update(mean, covariance, z, observation, noise, joseph_form=False)
    np.testing.assert_allclose(joseph[0], short[0])
    np.testing.assert_allclose(joseph[1], short[1], atol=1e-9)


def test_mahalanobis_matches_the_explicit_inverse():
    rng = np.random.default_rng(2)
    filters, _, observation = _random_filters(rng, count=4, dim_x=8, dim_z=4)
    mean = np.stack([kf.x[:, 0] for kf in filters])
    covariance = np.stack([kf.P for kf in filters])
    noise = np.eye(4)
    measurements = rng.normal(size=(6, 4)) * 5
    distances = mahalanobis_squared(mean, covariance, measurements, observation, noise)
    for n in range(4):
        inverse = np.linalg.inv(observation @ covariance[n] @ observation.T + noise)
        for k in range(6):
            d = measurements[k] - observation @ mean[n]
            assert np.isclose(distances[n, k], d @ inverse @ d)
