import numpy as np
import pytest

from videoanalyst.association.camera_motion import estimate_camera_motion, warp_boxes
from videoanalyst.errors import ConfigError
from videoanalyst.synthetic.scene import Scene, SceneConfig


@pytest.fixture(scope="module")
def panning_scene():
    """Static objects seen by a camera panning ~2.4 px a frame: the whole view shifts by the camera's step."""
    return Scene(SceneConfig(width=160, height=120, num_frames=20, num_objects=3, seed=1, camera_pan=True,
                             speed=0.0, scale_change=0.0, pan_speed=0.02))


@pytest.mark.parametrize("mode, scale", [("euclidean", 1.0), ("translation", 1.0), ("affine", 1.0),
                                         ("euclidean", 0.5)])
def test_the_estimated_translation_is_the_camera_shift(panning_scene, mode, scale):
    moved = 0
    for index in range(1, 8):
        warp = estimate_camera_motion(panning_scene.frame(index - 1), panning_scene.frame(index), mode=mode,
                                      scale=scale)
        true_shift = panning_scene.camera(index - 1) - panning_scene.camera(index)
        np.testing.assert_allclose(warp[:, 2], true_shift, atol=0.5)
        np.testing.assert_allclose(warp[:, :2], np.eye(2), atol=0.01)
        moved += np.abs(true_shift).sum() > 0
    assert moved >= 5


def test_warp_boxes_maps_both_corners():
    boxes = np.array([[10.0, 20.0, 30.0, 60.0], [0.0, 0.0, 1.0, 2.0]])
    shift = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, -2.5]])
    np.testing.assert_allclose(warp_boxes(boxes, shift), boxes + [5.0, -2.5, 5.0, -2.5])
    quarter_turn = np.array([[0.0, -1.0, 100.0], [1.0, 0.0, 0.0]])  # (x, y) -> (100 - y, x)
    np.testing.assert_allclose(warp_boxes(boxes[:1], quarter_turn), [[80.0, 10.0, 40.0, 30.0]])
    assert warp_boxes(np.zeros((0, 4)), shift).shape == (0, 4)


def test_ecc_that_fails_gives_the_identity_and_a_warning():
    flat = np.full((60, 80, 3), 128, np.uint8)
    with pytest.warns(RuntimeWarning, match="ECC did not converge"):
        warp = estimate_camera_motion(flat, flat)
    np.testing.assert_array_equal(warp, np.eye(2, 3))


def test_bad_settings_are_config_errors():
    frame = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ConfigError, match="mode"):
        estimate_camera_motion(frame, frame, mode="homography")
    with pytest.raises(ConfigError, match="scale"):
        estimate_camera_motion(frame, frame, scale=2.0)
