"""HOTA and its sub-metrics (Luiten et al., "HOTA: A Higher Order Metric for Evaluating Multi-Object Tracking",
IJCV 2020), computed as the official TrackEval does (JonathonLuiten/TrackEval, ``trackeval/metrics/hota.py``).

Input is one sequence as per-frame arrays: the ids of the evaluated ground-truth boxes, the ids of the predicted
boxes and their (G, P) similarity (IoU for boxes). `mot.py` builds these from MOTChallenge files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

#: Localisation thresholds alpha = 0.05, 0.10, ..., 0.95, built exactly as TrackEval builds them.
ALPHAS = np.arange(0.05, 0.99, 0.05)
#: Slack on the similarity comparisons, TrackEval's ``np.finfo('float').eps``.
_EPS = np.finfo(np.float64).eps
#: Floor of LocA's numerator and denominator (TrackEval): LocA is 1 at an alpha without true positives.
_LOCA_FLOOR = 1e-10


@dataclass(frozen=True)
class HotaCounts:
    """Per-alpha totals of one sequence, or of several combined by `combine_hota`; every metric derives from them.

    Args:
        tp, fn, fp: (19,) float64 detection true positives, misses and false positives at each alpha in `ALPHAS`.
        ass_a, ass_re, ass_pr: (19,) association accuracy, recall and precision, averaged over the true positives.
        loc_a: (19,) mean similarity of the true positives; 1 where there are none, as in TrackEval.
    """

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    ass_a: np.ndarray
    ass_re: np.ndarray
    ass_pr: np.ndarray
    loc_a: np.ndarray

    @property
    def det_re(self) -> np.ndarray:
        """(19,) detection recall TP / (TP + FN)."""
        return self.tp / np.maximum(1.0, self.tp + self.fn)

    @property
    def det_pr(self) -> np.ndarray:
        """(19,) detection precision TP / (TP + FP)."""
        return self.tp / np.maximum(1.0, self.tp + self.fp)

    @property
    def det_a(self) -> np.ndarray:
        """(19,) detection accuracy TP / (TP + FN + FP)."""
        return self.tp / np.maximum(1.0, self.tp + self.fn + self.fp)

    @property
    def hota(self) -> np.ndarray:
        """(19,) HOTA = sqrt(DetA * AssA) at each alpha."""
        return np.sqrt(self.det_a * self.ass_a)

    @property
    def owta(self) -> np.ndarray:
        """(19,) open-world tracking accuracy sqrt(DetRe * AssA)."""
        return np.sqrt(self.det_re * self.ass_a)

    def summary(self) -> dict[str, float]:
        """The TrackEval summary: each metric averaged over the 19 alphas, plus HOTA(0), LocA(0) and HOTALocA(0),
        which TrackEval takes at its lowest alpha, 0.05."""
        curves = {
            "HOTA": self.hota,
            "DetA": self.det_a,
            "AssA": self.ass_a,
            "DetRe": self.det_re,
            "DetPr": self.det_pr,
            "AssRe": self.ass_re,
            "AssPr": self.ass_pr,
            "LocA": self.loc_a,
            "OWTA": self.owta,
        }
        summary = {name: float(np.mean(curve)) for name, curve in curves.items()}
        summary["HOTA(0)"] = float(self.hota[0])
        summary["LocA(0)"] = float(self.loc_a[0])
        summary["HOTALocA(0)"] = float(self.hota[0] * self.loc_a[0])
        return summary


def hota_counts(
    gt_ids: Sequence[np.ndarray], tracker_ids: Sequence[np.ndarray], similarities: Sequence[np.ndarray]
) -> HotaCounts:
    """HOTA totals of one sequence.

    Per frame, predictions are matched to ground truth by the Hungarian algorithm maximising similarity times the
    global alignment score of the two ids (their soft, IoU-weighted co-occurrence Jaccard over the whole
    sequence); a match counts at alpha when its similarity reaches alpha (TrackEval ``HOTA.eval_sequence``).

    Args:
        gt_ids: per frame, (G_t,) ids of the ground-truth boxes evaluated; any integers, unique within a frame.
        tracker_ids: per frame, (P_t,) ids of the predicted boxes, unique within a frame.
        similarities: per frame, (G_t, P_t) similarity in [0, 1] (IoU for boxes).

    Raises:
        ValueError: for lists of different lengths, a similarity of the wrong shape, or an id twice in one frame.
    """
    if not len(gt_ids) == len(tracker_ids) == len(similarities):
        raise ValueError(
            f"hota_counts: need one entry a frame in each list, got {len(gt_ids)} gt, "
            f"{len(tracker_ids)} tracker and {len(similarities)} similarity frames"
        )
    gt_frames = _dense_ids(gt_ids, "gt")
    tracker_frames = _dense_ids(tracker_ids, "tracker")
    sims = [
        _frame_similarity(frame, s, len(g), len(t))
        for frame, (s, g, t) in enumerate(zip(similarities, gt_frames, tracker_frames))
    ]
    gt_count = np.bincount(_concatenate(gt_frames, np.int64))
    tracker_count = np.bincount(_concatenate(tracker_frames, np.int64))
    num_tracker_ids = max(len(tracker_count), 1)
    both = [k for k, (g, t) in enumerate(zip(gt_frames, tracker_frames)) if len(g) and len(t)]

    # Global alignment score of every co-occurring (gt id, tracker id) pair: the soft co-occurrence count
    # (similarity over the per-frame "IoU" denominator) summed in frame order, as TrackEval sums it.
    pair_keys = [(gt_frames[k][:, None] * num_tracker_ids + tracker_frames[k][None, :]).ravel() for k in both]
    soft_counts = [_soft_cooccurrence(sims[k]).ravel() for k in both]
    keys, inverse = np.unique(_concatenate(pair_keys, np.int64), return_inverse=True)
    potential = np.bincount(inverse, weights=_concatenate(soft_counts, np.float64), minlength=len(keys))
    alignment = potential / (gt_count[keys // num_tracker_ids] + tracker_count[keys % num_tracker_ids] - potential)

    matched_gt, matched_tracker, matched_sim = [], [], []
    for k, frame_keys in zip(both, pair_keys):
        score = alignment[np.searchsorted(keys, frame_keys)].reshape(sims[k].shape) * sims[k]
        rows, cols = linear_sum_assignment(-score)
        matched_gt.append(gt_frames[k][rows])
        matched_tracker.append(tracker_frames[k][cols])
        matched_sim.append(sims[k][rows, cols])
    return _counts_from_matches(
        _concatenate(matched_gt, np.int64),
        _concatenate(matched_tracker, np.int64),
        _concatenate(matched_sim, np.float64),
        gt_count,
        tracker_count,
    )


def combine_hota(parts: Sequence[HotaCounts]) -> HotaCounts:
    """Totals over several sequences: counts summed, the association scores and LocA averaged weighted by each
    sequence's true positives (TrackEval ``HOTA.combine_sequences``)."""
    if not parts:
        raise ValueError("combine_hota: no sequences to combine")
    tp = sum(p.tp for p in parts)
    weight = np.maximum(1.0, tp)
    return HotaCounts(
        tp=tp,
        fn=sum(p.fn for p in parts),
        fp=sum(p.fp for p in parts),
        ass_a=sum(p.ass_a * p.tp for p in parts) / weight,
        ass_re=sum(p.ass_re * p.tp for p in parts) / weight,
        ass_pr=sum(p.ass_pr * p.tp for p in parts) / weight,
        loc_a=np.maximum(_LOCA_FLOOR, sum(p.loc_a * p.tp for p in parts)) / np.maximum(_LOCA_FLOOR, tp),
    )


def _counts_from_matches(
    gt: np.ndarray, tracker: np.ndarray, sim: np.ndarray, gt_count: np.ndarray, tracker_count: np.ndarray
) -> HotaCounts:
    """All alphas at once from the per-frame Hungarian matches (pairs as dense ids, with their similarity)."""
    hit = sim[None, :] >= ALPHAS[:, None] - _EPS  # (alphas, matches)
    tp = hit.sum(axis=1).astype(np.float64)
    loc_sum = (hit * sim[None, :]).sum(axis=1)
    # Matches of each id pair at each alpha: the pair's TPA; its FNA / FPA follow from the ids' box counts.
    num_tracker_ids = max(len(tracker_count), 1)
    pairs, pair_of_match = np.unique(gt * num_tracker_ids + tracker, return_inverse=True)
    alpha_index, match_index = np.nonzero(hit)
    tpa = (
        np.bincount(alpha_index * len(pairs) + pair_of_match.ravel()[match_index], minlength=len(ALPHAS) * len(pairs))
        .reshape(len(ALPHAS), len(pairs))
        .astype(np.float64)
    )
    gt_boxes, tracker_boxes = gt_count[pairs // num_tracker_ids], tracker_count[pairs % num_tracker_ids]
    weight = np.maximum(1.0, tp)
    return HotaCounts(
        tp=tp,
        fn=gt_count.sum() - tp,
        fp=tracker_count.sum() - tp,
        ass_a=(tpa * tpa / np.maximum(1.0, gt_boxes + tracker_boxes - tpa)).sum(axis=1) / weight,
        ass_re=(tpa * tpa / np.maximum(1.0, gt_boxes)).sum(axis=1) / weight,
        ass_pr=(tpa * tpa / np.maximum(1.0, tracker_boxes)).sum(axis=1) / weight,
        loc_a=np.maximum(_LOCA_FLOOR, loc_sum) / np.maximum(_LOCA_FLOOR, tp),
    )


def _soft_cooccurrence(sim: np.ndarray) -> np.ndarray:
    """(G, P) sim / (row sum + column sum - sim), 0 where that denominator is not above eps (TrackEval)."""
    denominator = sim.sum(axis=0)[None, :] + sim.sum(axis=1)[:, None] - sim
    valid = denominator > _EPS
    return np.divide(sim, denominator, out=np.zeros_like(sim), where=valid)


def _dense_ids(ids: Sequence[np.ndarray], what: str) -> list[np.ndarray]:
    """Per-frame ids relabelled 0..K-1 over the sequence; an id twice in a frame is an error."""
    frames = [np.asarray(f, dtype=np.int64).ravel() for f in ids]
    lengths = [len(f) for f in frames]
    _, dense = np.unique(_concatenate(frames, np.int64), return_inverse=True)
    split = np.split(dense.ravel(), np.cumsum(lengths)[:-1]) if frames else []
    for frame, (original, relabelled) in enumerate(zip(frames, split)):
        if len(np.unique(relabelled)) != len(relabelled):
            values, counts = np.unique(original, return_counts=True)
            raise ValueError(f"hota_counts: {what} id {values[counts > 1][0]} appears twice in frame index {frame}")
    return split


def _frame_similarity(frame: int, similarity: np.ndarray, num_gt: int, num_tracker: int) -> np.ndarray:
    """(num_gt, num_tracker) float64 similarity of one frame; any empty array where either side has no boxes."""
    similarity = np.asarray(similarity, dtype=np.float64)
    if num_gt == 0 or num_tracker == 0:
        return np.zeros((num_gt, num_tracker))
    if similarity.shape != (num_gt, num_tracker):
        raise ValueError(
            f"hota_counts: similarity of frame index {frame} has shape {similarity.shape}, "
            f"expected {(num_gt, num_tracker)}"
        )
    return similarity


def _concatenate(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    """The parts end to end; an empty array of `dtype` for no parts."""
    return np.concatenate([np.zeros(0, dtype), *parts])
