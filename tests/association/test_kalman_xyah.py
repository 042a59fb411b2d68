"""DeepSORT's box Kalman model, batched, equals nwojke/deep_sort's `KalmanFilter` step for step.

The fixture holds the reference's own results on 4 tracks (initiate, predict, update, predict, gating distances),
made by ``PYTHONPATH=. python evaluation/reference/nwojke_deep_sort.py --reference /tmp/ref/deep_sort fixtures
--out tests/association/data`` with nwojke/deep_sort at f08cf1d (the reference is not vendored, so not imported here).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from videoanalyst.association import kalman_xyah

STEPS = json.loads((Path(__file__).parent / "data" / "deep_sort_kalman_steps.json").read_text())


def _expected(step):
    return np.array(STEPS[step]["mean"]), np.array(STEPS[step]["covariance"])


def test_initiate_predict_update_predict_equal_the_reference():
    mean, covariance = kalman_xyah.initiate(np.array(STEPS["boxes"]))
    states = {"initiate": (mean, covariance)}
    states["predict"] = kalman_xyah.predict(*states["initiate"])
    states["update"] = kalman_xyah.update(*states["predict"], np.array(STEPS["measured"]))
    states["predict_again"] = kalman_xyah.predict(*states["update"])
    for step, (mean, covariance) in states.items():
        expected_mean, expected_covariance = _expected(step)
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-12, atol=1e-9, err_msg=step)
        np.testing.assert_allclose(covariance, expected_covariance, rtol=1e-10, atol=1e-9, err_msg=step)


@pytest.mark.parametrize("name, only_position", [("full", False), ("position", True)])
def test_gating_distance_equals_the_reference(name, only_position):
    mean, covariance = _expected("predict_again")
    distances = kalman_xyah.gating_distance(mean, covariance, np.array(STEPS["candidates"]), only_position)
    np.testing.assert_allclose(distances, STEPS[f"gating_{name}"], rtol=1e-9)
    gate = kalman_xyah.CHI2_95[2 if only_position else 4]
    assert (distances > gate).any() and (distances <= gate).any(), "candidates should fall on both sides of the gate"


def test_box_conversions_round_trip():
    boxes = np.array([[10.0, 20.0, 50.0, 100.0], [0.5, 0.25, 3.5, 1.25]])
    xyah = kalman_xyah.xyxy_to_xyah(boxes)
    np.testing.assert_allclose(xyah[0], [30.0, 60.0, 0.5, 80.0])
    np.testing.assert_allclose(kalman_xyah.xyah_to_xyxy(xyah), boxes)
