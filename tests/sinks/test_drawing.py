"""Drawing: colours per track, boxes where the detections are, the input left untouched."""

from __future__ import annotations

import numpy as np

from videoanalyst.core.detections import Detections
from videoanalyst.core.target_state import TargetState
from videoanalyst.sinks.drawing import (
    GROUND_TRUTH_COLOUR,
    TARGET_COLOUR,
    UNTRACKED_COLOUR,
    annotate,
    line_width,
    track_colour,
)


def grey(height: int = 120, width: int = 160) -> np.ndarray:
    image = np.full((height, width, 3), 50, np.uint8)
    image.flags.writeable = False  # as a FramePacket hands it out
    return image


def test_track_colours_are_stable_distinct_and_grey_for_untracked():
    colours = [track_colour(track_id) for track_id in range(50)]
    assert colours == [track_colour(track_id) for track_id in range(50)]
    assert len(set(colours)) == 50
    assert track_colour(-1) == UNTRACKED_COLOUR
    for a, b in zip(colours, colours[1:]):  # neighbouring ids are told apart at a glance
        assert np.abs(np.subtract(a, b)).max() > 60


def test_line_width_grows_with_the_frame():
    assert [line_width(height) for height in (120, 360, 720, 1080, 2160)] == [1, 1, 2, 3, 6]


def test_boxes_take_their_track_colour_and_leave_the_input_alone():
    image = grey()
    detections = Detections([[20, 40, 60, 100], [90, 40, 150, 100]], scores=[0.9, 0.4], track_ids=[3, -1])
    drawn = annotate(image, detections=detections)
    assert drawn.shape == image.shape and drawn.dtype == np.uint8
    assert (image == 50).all()
    assert tuple(drawn[70, 20]) == track_colour(3)
    assert tuple(drawn[70, 150]) == UNTRACKED_COLOUR
    assert tuple(drawn[70, 40]) == (50, 50, 50)


def test_labels_fit_on_boxes_at_the_top_edge():
    drawn = annotate(grey(), detections=Detections([[10, 0, 80, 50]], scores=[0.5], track_ids=[12]))
    assert tuple(drawn[1, 12]) == track_colour(12)  # the label tab, drawn inside the box


def test_target_ground_truth_and_trails():
    target = TargetState(np.array([20, 20, 60, 60]), score=0.7)
    truth = Detections([[100, 60, 140, 110]])
    trails = {5: [(10.0, 110.0), (60.0, 110.0), (90.0, 110.0)]}
    drawn = annotate(grey(), target=target, ground_truth=truth, trails=trails)
    assert tuple(drawn[40, 20]) == TARGET_COLOUR
    assert tuple(drawn[85, 100]) == GROUND_TRUTH_COLOUR
    assert tuple(drawn[110, 40]) == track_colour(5)


def test_absent_target_and_degenerate_boxes_draw_nothing():
    absent = TargetState(np.full(4, np.nan), present=False)
    flipped = Detections([[60, 60, 20, 20]])
    np.testing.assert_array_equal(annotate(grey(), detections=flipped, target=absent), grey())
