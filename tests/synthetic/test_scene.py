import numpy as np
import pytest

from videoanalyst.synthetic.scene import Scene, SceneConfig, TargetView, numbered_scenes
from videoanalyst.synthetic.visibility import union_area, visible_fractions

SMALL = SceneConfig(width=96, height=72, num_frames=40, num_objects=6)


def test_same_seed_gives_identical_frames_and_ground_truth():
    first, second = Scene(SMALL), Scene(SMALL)
    for index in (0, 17, 39):
        assert first.frame(index).tobytes() == second.frame(index).tobytes()
        a, b = first.ground_truth(index), second.ground_truth(index)
        np.testing.assert_array_equal(a.xyxy, b.xyxy)
        np.testing.assert_array_equal(a.track_ids, b.track_ids)
        np.testing.assert_array_equal(a.extra["visibility"], b.extra["visibility"])


def test_another_seed_gives_another_scene():
    other = Scene(SceneConfig(width=96, height=72, num_frames=40, num_objects=6, seed=1))
    assert not np.array_equal(Scene(SMALL).frame(0), other.frame(0))


def test_frames_are_rgb_uint8_of_the_view_size_and_indices_are_checked():
    scene = Scene(SMALL)
    frame = scene.frame(0)
    assert frame.shape == (72, 96, 3) and frame.dtype == np.uint8
    with pytest.raises(IndexError):
        scene.frame(40)


def test_ground_truth_lists_the_visible_objects_with_ids_from_1_and_class_1():
    scene = Scene(SMALL)
    for index in range(len(scene)):
        truth, states = scene.ground_truth(index), scene.objects(index)
        assert truth.track_ids.tolist() == states.ids[states.visibility > 0].tolist()
        assert set(truth.class_ids.tolist()) <= {1}
        assert truth.extra["visibility"].dtype == np.float32
        assert np.all((truth.extra["visibility"] > 0) & (truth.extra["visibility"] <= 1))
    assert scene.objects(0).ids.tolist() == [1, 2, 3, 4, 5, 6]


def test_objects_move_and_change_scale():
    scene = Scene(SceneConfig(width=96, height=72, num_frames=40, num_objects=4, scale_change=0.5))
    start, later = scene.objects(0).xyxy, scene.objects(20).xyxy
    centre_shift = np.abs((later[:, :2] + later[:, 2:]) / 2 - (start[:, :2] + start[:, 2:]) / 2).sum(axis=1)
    size_ratio = (later[:, 3] - later[:, 1]) / (start[:, 3] - start[:, 1])
    assert np.all(centre_shift > 1)
    assert np.all(np.abs(size_ratio - 1) > 0.01)
    # width / height stays the object's own: scale changes, shape does not
    aspect = lambda b: (b[:, 2] - b[:, 0]) / (b[:, 3] - b[:, 1])  # noqa: E731
    np.testing.assert_allclose(aspect(start), aspect(later), rtol=1e-9)


def test_no_scale_change_keeps_sizes():
    scene = Scene(SceneConfig(width=96, height=72, num_frames=40, num_objects=4, scale_change=0.0))
    sizes = lambda b: b[:, 2:] - b[:, :2]  # noqa: E731
    np.testing.assert_allclose(sizes(scene.objects(0).xyxy), sizes(scene.objects(30).xyxy))


def test_an_object_in_front_lowers_the_visibility_of_the_one_behind():
    scene = Scene(SceneConfig(width=96, height=72, num_frames=60, num_objects=8, size_range=(0.3, 0.5)))
    occluded = 0
    for index in range(len(scene)):
        states = scene.objects(index)
        assert np.all(states.visibility <= states.inside + 1e-9)
        for k in range(len(states.ids)):
            front = scene.depth > scene.depth[k]
            overlap = _overlap_in_image(states.xyxy[k], states.xyxy[front], 96, 72)
            if overlap.size and overlap.max() > 1e-6:
                assert states.visibility[k] < states.inside[k]
                occluded += 1
            else:
                assert states.visibility[k] == pytest.approx(states.inside[k])
    assert occluded > 0


def test_visibility_of_one_occluder_is_the_uncovered_share():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110]], dtype=np.float64)
    visibility = visible_fractions(boxes, depth=np.array([0, 1, 2]), width=50, height=50)
    # box 0 half under box 1; box 1 in front, whole; box 2 outside the image
    np.testing.assert_allclose(visibility, [0.5, 1.0, 0.0])
    # only the part inside the image counts: half of box 0 leaves the image on the left
    np.testing.assert_allclose(visible_fractions(boxes[:1] - [5, 0, 5, 0], np.array([0]), 50, 50), [0.5])


@pytest.mark.parametrize("boxes, area", [
    ([], 0.0),
    ([[0, 0, 2, 2]], 4.0),
    ([[0, 0, 2, 2], [1, 1, 3, 3]], 7.0),
    ([[0, 0, 2, 2], [0, 0, 2, 2]], 4.0),
    ([[0, 0, 4, 1], [0, 0, 1, 4], [3, 0, 4, 4]], 10.0),
    ([[0, 0, 1, 1], [2, 2, 2, 5]], 1.0),  # a box of no area adds nothing
])
def test_union_area(boxes, area):
    assert union_area(np.array(boxes, dtype=np.float64).reshape(-1, 4)) == pytest.approx(area)


def test_objects_leave_the_view_and_come_back():
    scene = Scene(SceneConfig(width=96, height=72, num_frames=60, num_objects=6, speed=0.04))
    present = np.array([[k in scene.ground_truth(i).track_ids for k in scene.ids] for i in range(len(scene))])
    inside = np.array([scene.objects(i).inside for i in range(len(scene))])
    leaves = present[:-1] & ~present[1:]
    enters = ~present[:-1] & present[1:]
    assert leaves.any() and enters.any()
    # somewhere an object is gone because it is wholly out of the image, not only hidden
    assert np.any(~present & (inside == 0))


def test_camera_pan_moves_background_and_objects_together():
    config = SceneConfig(width=96, height=72, num_frames=40, num_objects=3, camera_pan=True, speed=0.0,
                         scale_change=0.0, pan_speed=0.02)
    scene = Scene(config)
    dx, dy = scene.camera(30) - scene.camera(0)
    assert (dx, dy) != (0, 0)
    # the background seen at frame 30 is the one at frame 0 shifted by the camera's motion
    first, later = scene.background_view(0), scene.background_view(30)
    assert not np.array_equal(first, later)
    np.testing.assert_array_equal(later[max(-dy, 0): 72 - max(dy, 0), max(-dx, 0): 96 - max(dx, 0)],
                                  first[max(dy, 0): 72 + min(dy, 0), max(dx, 0): 96 + min(dx, 0)])
    # objects standing still in the world shift in the view by the same amount
    np.testing.assert_allclose(scene.objects(30).xyxy, scene.objects(0).xyxy - [dx, dy, dx, dy])


def test_without_pan_the_background_stays():
    scene = Scene(SMALL)
    np.testing.assert_array_equal(scene.background_view(0), scene.background_view(39))


def test_ground_truth_boxes_hold_the_rendered_objects():
    scene = Scene(SceneConfig(width=160, height=120, num_frames=30, num_objects=10, size_range=(0.1, 0.25)))
    checked = 0
    for index in range(0, 30, 3):
        frame, background, states = scene.frame(index), scene.background_view(index), scene.objects(index)
        changed = np.any(frame != background, axis=2)
        for k in np.flatnonzero(states.visibility >= 1):
            x1, y1, x2, y2 = np.round(states.xyxy[k]).astype(int)
            inside = changed[y1:y2, x1:x2].mean()
            assert inside > (0.7 if scene.is_ellipse[k] else 0.95)
            # a ring just outside the box that no other object's box touches shows the background
            ring = np.zeros_like(changed)
            ring[max(y1 - 2, 0): y2 + 2, max(x1 - 2, 0): x2 + 2] = True
            ring[max(y1 - 1, 0): y2 + 1, max(x1 - 1, 0): x2 + 1] = False
            for j in np.flatnonzero(np.arange(len(states.ids)) != k):
                a1, b1, a2, b2 = np.floor(states.xyxy[j]).astype(int)
                ring[max(b1 - 1, 0): max(b2 + 2, 0), max(a1 - 1, 0): max(a2 + 2, 0)] = False
            assert not changed[ring].any()
            checked += 1
    assert checked > 0


def test_target_view_is_absent_where_its_object_is_invisible():
    scene = Scene(SceneConfig(width=96, height=72, num_frames=60, num_objects=6, speed=0.04))
    view = TargetView(scene)
    assert view.visibility(0) == scene.objects(0).visibility.max()
    absent = 0
    for index in range(len(scene)):
        state = view.state(index)
        assert state.present == (view.visibility(index) > 0)
        if state.present:
            np.testing.assert_allclose(state.xyxy, view.box(index), rtol=1e-6)
        else:
            assert np.isnan(state.xyxy).all()
            absent += 1
    assert absent > 0


def test_target_view_takes_a_chosen_object_and_checks_it():
    scene = Scene(SMALL)
    assert TargetView(scene, object_id=3).object_id == 3
    with pytest.raises(ValueError):
        TargetView(scene, object_id=7)
    with pytest.raises(ValueError, match="no object is visible"):
        TargetView(Scene(SceneConfig(width=96, height=72, num_objects=0)))


def test_numbered_scenes_offset_the_seed():
    named = numbered_scenes(SceneConfig(seed=5), 3)
    assert [name for name, _ in named] == ["synthetic-000", "synthetic-001", "synthetic-002"]
    assert [config.seed for _, config in named] == [5, 6, 7]


@pytest.mark.parametrize("changes", [dict(width=4), dict(num_frames=0), dict(size_range=(0.5, 0.2)),
                                     dict(fps=0), dict(scale_period=0)])
def test_bad_settings_are_refused(changes):
    with pytest.raises(ValueError):
        SceneConfig(**changes)


def _overlap_in_image(box, others, width, height):
    """Areas of `others` overlapping `box` inside the image."""
    low = np.maximum(np.maximum(others[:, :2], box[:2]), 0)
    high = np.minimum(np.minimum(others[:, 2:], box[2:]), [width, height])
    return np.clip(high - low, 0, None).prod(axis=1)
