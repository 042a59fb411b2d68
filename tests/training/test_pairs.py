"""Training sequences from GOT-10k folders and synthetic scenes, and pair sampling (gap, visibility, negatives)."""

import numpy as np
import pytest

from videoanalyst.errors import InputError
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import Scene, SceneConfig
from videoanalyst.training.pairs import (
    PairSampler,
    TrackSequence,
    got10k_sequences,
    reasonable_boxes,
    synthetic_sequences,
)

SCENE = SceneConfig(width=64, height=48, num_frames=12, num_objects=2)


def _sequence(visibility, size=(100, 100), box=(10, 10, 20, 20)):
    visibility = np.asarray(visibility, dtype=np.float64)
    boxes = np.tile(np.asarray(box, dtype=np.float64), (len(visibility), 1))
    return TrackSequence("fake", boxes, visibility, size, lambda index: np.zeros((size[1], size[0], 3), np.uint8))


def _sampler(sequences, gap=3, negative=0.0, min_visibility=0.0):
    return PairSampler(
        sequences,
        max_frame_gap=gap,
        negative_pair_ratio=negative,
        min_visibility=min_visibility,
        min_area_rate=0.001,
        max_area_rate=0.6,
        max_aspect_ratio=10,
    )


def test_pairs_stay_within_the_gap_and_skip_hidden_frames():
    visibility = np.ones(40)
    visibility[[0, 5, 6, 7, 30]] = 0
    sampler = _sampler([_sequence(visibility)], gap=3)
    rng = np.random.default_rng(0)
    pairs = [sampler.sample(rng) for _ in range(2000)]
    firsts = np.array([p.template[1] for p in pairs])
    seconds = np.array([p.search[1] for p in pairs])
    assert np.abs(firsts - seconds).max() == 3  # the gap is reached, never passed
    used = set(firsts) | set(seconds)
    assert not used & {0, 5, 6, 7, 30} and used == set(np.flatnonzero(visibility))
    assert (firsts == seconds).any()  # the template frame itself may be the search frame, as in video_analyst
    assert not any(p.negative for p in pairs)


def test_min_visibility_and_box_filter_decide_usable_frames():
    visibility = np.array([0.1, 0.3, 0.5, 0.9])
    sampler = _sampler([_sequence(visibility)], min_visibility=0.3)
    assert sampler.usable[0].tolist() == [2, 3]  # strictly more than 0.3
    # A box of 80 % of the image is too large (max_area_rate 0.6): no usable frame anywhere.
    with pytest.raises(InputError, match="none of the 1 sequences has a frame usable"):
        _sampler([_sequence(np.ones(4), box=(0, 0, 90, 90))])


def test_negative_pairs_at_the_ratio():
    sequences = [_sequence(np.ones(10)) for _ in range(5)]
    rng = np.random.default_rng(1)
    pairs = [_sampler(sequences, negative=0.1).sample(rng) for _ in range(4000)]
    share = np.mean([p.negative for p in pairs])
    assert 0.085 < share < 0.115  # video_analyst's negative_pair_ratio 0.1
    positive = [p for p in pairs if not p.negative]
    assert all(p.template[0] == p.search[0] for p in positive)
    assert len({p.search[0] for p in pairs if p.negative}) == 5


def test_sampling_is_a_function_of_the_seed():
    sampler = _sampler([_sequence(np.ones(30)) for _ in range(3)], negative=0.3)
    draw = [sampler.sample(np.random.default_rng([7, i])) for i in range(50)]
    assert draw == [sampler.sample(np.random.default_rng([7, i])) for i in range(50)]


def test_reasonable_boxes_by_hand():
    boxes = np.array([[0, 0, 1, 1], [0, 0, 10, 10], [0, 0, 80, 80], [0, 0, 40, 4], [0, 0, 39, 4]], np.float64)
    # image 100 x 100: area rates 0.0001 (too small), 0.01, 0.64 (too large); 40 x 4 is 10:1 (not below 10).
    assert reasonable_boxes(boxes, (100, 100), 0.001, 0.6, 10).tolist() == [False, True, False, False, True]


def test_synthetic_sequences_follow_every_object():
    sequences = synthetic_sequences(SCENE, 2)
    assert len(sequences) == 4 and [s.name for s in sequences[:2]] == ["synthetic-000/1", "synthetic-000/2"]
    scene = Scene(SCENE)
    states = scene.objects(5)
    # x = x1, w = x2 - x1 (continuous corners -> pixel convention, see synthetic_sequences).
    assert np.allclose(sequences[1].boxes[5], [*states.xyxy[1, :2], *(states.xyxy[1, 2:] - states.xyxy[1, :2])])
    assert sequences[1].visibility[5] == pytest.approx(states.visibility[1])
    assert np.array_equal(sequences[0].frame(5), scene.frame(5)) and sequences[0].image_size == (64, 48)


def test_got10k_folders(tmp_path):
    folders = export_dataset("got10k", tmp_path / "data", SCENE, num_sequences=2)
    sequences = got10k_sequences(tmp_path / "data")
    assert [s.name for s in sequences] == ["synthetic-000", "synthetic-001"]
    absence = np.loadtxt(folders[0] / "absence.label")
    assert ((sequences[0].visibility == 0) == (absence == 1)).all()
    truth = np.loadtxt(folders[0] / "groundtruth.txt", delimiter=",")
    assert np.array_equal(sequences[0].boxes, truth)
    assert sequences[0].frame(3).shape == (48, 64, 3) and sequences[0].image_size == (64, 48)
    assert len(got10k_sequences(folders[1])) == 1  # one sequence folder


def test_got10k_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="no such got10k sequence or data-set folder"):
        got10k_sequences(tmp_path / "absent")
    folders = export_dataset("got10k", tmp_path / "data", SCENE, num_sequences=1)
    groundtruth = folders[0] / "groundtruth.txt"
    lines = groundtruth.read_text().splitlines()
    groundtruth.write_text("\n".join(lines[:2] + ["1,2,three,4"] + lines[3:]) + "\n")
    with pytest.raises(InputError, match=r"groundtruth.txt:3: non-numeric value"):
        got10k_sequences(tmp_path / "data")
    groundtruth.write_text(lines[0] + "\n")
    with pytest.raises(InputError, match="only the first frame has a box"):
        got10k_sequences(tmp_path / "data")
