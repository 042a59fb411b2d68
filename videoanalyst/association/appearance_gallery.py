"""Per-track galleries of the latest appearance features, and each track's nearest-neighbour distance to new ones.

The metric of nwojke/deep_sort (f08cf1d, `deep_sort/nn_matching.py`, `NearestNeighborDistanceMetric`): a track's
distance to a detection is the smallest distance between the detection's feature and any feature in the track's
gallery, which keeps only the track's last `budget` features. Distances are computed in float32, as there.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Metric = Literal["cosine", "euclidean"]


class AppearanceGallery:
    """Ring buffers of the last `budget` features of every live track, in one (capacity, budget, D) float32 array.

    A track owns a slot from `allocate` to `release`; slots of ended tracks are reused, so memory stays bounded by
    the most tracks alive at once times `budget` features.

    Args:
        budget: features kept per track; the oldest is overwritten first.
        metric: "cosine" (1 - cosine similarity; features are L2-normalised when stored and when queried) or
            "euclidean" (squared Euclidean distance, clipped at 0, as the reference's `_pdist`).
    """

    def __init__(self, budget: int, metric: Metric = "cosine") -> None:
        if budget < 1:
            raise ValueError(f"AppearanceGallery: budget must be >= 1, got {budget}")
        if metric not in ("cosine", "euclidean"):
            raise ValueError(f"AppearanceGallery: metric must be 'cosine' or 'euclidean', got {metric!r}")
        self.budget = budget
        self.metric = metric
        self._features = np.zeros((0, budget, 0), np.float32)
        self._count = np.zeros(0, np.int64)  # features held per slot, <= budget
        self._next = np.zeros(0, np.int64)  # where each slot writes its next feature
        self._free: list[int] = []

    @property
    def dim(self) -> int | None:
        """Feature dimension D, fixed by the first features stored; None before that."""
        return self._features.shape[2] if len(self._features) else None

    def __len__(self) -> int:
        """Slots in use (live tracks)."""
        return len(self._features) - len(self._free)

    def allocate(self, features: np.ndarray) -> np.ndarray:
        """Slots for new tracks, each holding its first feature from the rows of (K, D) `features`."""
        features = np.asarray(features, np.float32)
        if len(self._features) == 0:
            self._features = np.zeros((0, self.budget, features.shape[1]), np.float32)
        missing = len(features) - len(self._free)
        if missing > 0:
            self._grow(missing)
        slots = np.array([self._free.pop() for _ in range(len(features))], np.int64)
        self._count[slots] = 0
        self._next[slots] = 0
        self.add(slots, features)
        return slots

    def add(self, slots: np.ndarray, features: np.ndarray) -> None:
        """Store one feature per slot (slots distinct), forgetting the slot's oldest one when it holds `budget`."""
        slots = np.asarray(slots, np.int64)
        self._features[slots, self._next[slots]] = self._prepare(features)
        self._next[slots] = (self._next[slots] + 1) % self.budget
        self._count[slots] = np.minimum(self._count[slots] + 1, self.budget)

    def release(self, slots: np.ndarray) -> None:
        """The tracks in `slots` ended: drop their features and free the slots."""
        slots = np.asarray(slots, np.int64)
        self._count[slots] = 0
        self._free.extend(slots.tolist())

    def distance(self, slots: np.ndarray, features: np.ndarray, candidates: np.ndarray | None = None) -> np.ndarray:
        """(len(slots), M) float64: each track's smallest distance between the M query `features` and its gallery.

        Args:
            slots: the tracks' slots.
            features: (M, D) query features.
            candidates: optional (len(slots), M) bool: compute only these pairs (e.g. those inside a motion gate),
                the rest are inf. Each track is compared with its own candidates only, so a gate makes this cheap.
        """
        slots = np.asarray(slots, np.int64)
        queries = self._prepare(features)
        result = np.full((len(slots), len(queries)), np.inf)
        if candidates is None:
            candidates = np.ones(result.shape, bool)
        counts = candidates.sum(axis=1)
        active = np.flatnonzero(counts)
        if len(active) == 0:
            return result
        # Per active track, its candidate queries first (padded with others up to the widest track's count).
        width = int(counts.max())
        chosen = np.argsort(~candidates[active], axis=1, kind="stable")[:, :width]
        depth = int(self._count[slots[active]].max())
        stored = self._features[slots[active], :depth]  # (A, depth, D)
        picked = queries[chosen]  # (A, width, D)
        products = stored @ picked.transpose(0, 2, 1)  # (A, depth, width)
        if self.metric == "cosine":
            pairwise = 1.0 - products
        else:
            pairwise = np.clip(-2.0 * products + np.square(stored).sum(axis=2)[:, :, None]
                               + np.square(picked).sum(axis=2)[:, None, :], 0.0, np.inf)
        pairwise[np.arange(depth)[None, :] >= self._count[slots[active]][:, None]] = np.inf
        nearest = pairwise.min(axis=1).astype(np.float64)  # (A, width)
        if self.metric == "euclidean":
            nearest = np.maximum(0.0, nearest)
        used = np.arange(width)[None, :] < counts[active][:, None]
        result[np.repeat(active, counts[active]), chosen[used]] = nearest[used]
        return result

    def _prepare(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features, np.float32)
        if self.metric == "cosine":
            features = features / np.linalg.norm(features, axis=1, keepdims=True)
        return features

    def _grow(self, at_least: int) -> None:
        """Add free slots: at least `at_least`, and at least as many as there are, so growth is amortised."""
        old = len(self._features)
        extra = max(at_least, old, 8)
        self._features = np.concatenate([self._features, np.zeros((extra,) + self._features.shape[1:], np.float32)])
        self._count = np.concatenate([self._count, np.zeros(extra, np.int64)])
        self._next = np.concatenate([self._next, np.zeros(extra, np.int64)])
        self._free.extend(range(old + extra - 1, old - 1, -1))
