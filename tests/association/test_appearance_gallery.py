"""Per-track feature galleries: nearest-neighbour distances as nwojke/deep_sort's `nn_matching.py` defines them,
bounded by the budget, features of released tracks gone."""

import numpy as np
import pytest

from videoanalyst.association.appearance_gallery import AppearanceGallery


def _brute_force(samples, queries, metric):
    """The reference's formulas, written out per sample and query in float64."""
    samples, queries = np.asarray(samples, np.float64), np.asarray(queries, np.float64)
    if metric == "cosine":
        samples = samples / np.linalg.norm(samples, axis=1, keepdims=True)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        return np.array([[1 - s @ q for q in queries] for s in samples]).min(axis=0)
    return np.array([[np.sum((s - q) ** 2) for q in queries] for s in samples]).min(axis=0)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_distance_is_the_nearest_neighbour_per_track(metric):
    rng = np.random.default_rng(0)
    gallery = AppearanceGallery(budget=5, metric=metric)
    histories = [rng.normal(size=(count, 6)).astype(np.float32) for count in (1, 3, 7)]
    slots = gallery.allocate(np.stack([h[0] for h in histories]))
    for step in range(1, 7):
        growing = [k for k, h in enumerate(histories) if step < len(h)]
        gallery.add(slots[growing], np.stack([histories[k][step] for k in growing]))
    queries = rng.normal(size=(4, 6)).astype(np.float32)
    distances = gallery.distance(slots, queries)
    assert distances.shape == (3, 4) and distances.dtype == np.float64
    for row, history in enumerate(histories):  # the 7-feature track keeps only its last 5
        np.testing.assert_allclose(distances[row], _brute_force(history[-5:], queries, metric), rtol=1e-5,
                                   atol=1e-5)
    np.testing.assert_allclose(gallery.distance(slots[[2, 0]], queries), distances[[2, 0]])


def test_budget_bounds_memory_and_forgets_the_oldest_feature():
    gallery = AppearanceGallery(budget=100)
    first = np.eye(1, 16, 0, dtype=np.float32)
    slot = gallery.allocate(first)
    assert gallery.distance(slot, first)[0, 0] == pytest.approx(0.0, abs=1e-6)
    for _ in range(250):
        gallery.add(slot, np.eye(1, 16, 1, dtype=np.float32))
    assert gallery._features.shape[1] == 100
    assert gallery.distance(slot, first)[0, 0] == pytest.approx(1.0)  # the first feature was overwritten


def test_released_slots_are_reused_and_forget_their_features():
    gallery = AppearanceGallery(budget=3)
    features = np.eye(4, dtype=np.float32)
    slots = gallery.allocate(features)
    assert len(gallery) == 4 and gallery.dim == 4
    gallery.release(slots[:2])
    assert len(gallery) == 2
    reused = gallery.allocate(features[3:])
    assert reused[0] in slots[:2]
    assert gallery.distance(reused, features[:1])[0, 0] == pytest.approx(1.0)  # not the released track's feature
    capacity = len(gallery._features)
    for _ in range(1000):  # tracks born and ending every frame: storage does not grow
        gallery.release(gallery.allocate(features[:2]))
    assert len(gallery._features) == capacity


def test_empty_queries_and_tracks():
    gallery = AppearanceGallery(budget=2)
    slots = gallery.allocate(np.ones((2, 3), np.float32))
    assert gallery.distance(slots, np.zeros((0, 3), np.float32)).shape == (2, 0)
    assert gallery.distance(slots[:0], np.ones((5, 3), np.float32)).shape == (0, 5)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_candidate_pairs_only_equal_the_full_matrix_there(metric):
    rng = np.random.default_rng(2)
    gallery = AppearanceGallery(budget=4, metric=metric)
    slots = gallery.allocate(rng.normal(size=(5, 8)))
    gallery.add(slots[:3], rng.normal(size=(3, 8)))
    queries = rng.normal(size=(6, 8))
    candidates = rng.random((5, 6)) < 0.4
    candidates[1] = False  # a track with no candidate at all
    full = gallery.distance(slots, queries)
    gated = gallery.distance(slots, queries, candidates)
    np.testing.assert_allclose(gated[candidates], full[candidates], rtol=1e-6)
    assert np.isinf(gated[~candidates]).all()
