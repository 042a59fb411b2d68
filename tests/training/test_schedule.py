"""Learning-rate schedule values at known steps (video_analyst lr_policy.py: LinearLR then CosineLR)."""

import math

import pytest

from videoanalyst.training.schedule import WarmupCosine


def test_values_at_known_steps():
    schedule = WarmupCosine(warmup_steps=10, total_steps=110, start_lr=1e-6, peak_lr=0.08, end_lr=1e-6)
    assert schedule(0) == pytest.approx(1e-6)
    assert schedule(5) == pytest.approx((1e-6 + 0.08) / 2)  # halfway up
    assert schedule(10) == pytest.approx(0.08)  # peak
    assert schedule(60) == pytest.approx((0.08 + 1e-6) / 2)  # halfway down the cosine
    assert schedule(35) == pytest.approx(0.08 + (1e-6 - 0.08) * (1 - math.cos(math.pi / 4)) / 2)
    assert schedule(109) == pytest.approx(1e-6, abs=5e-5)
    assert all(schedule(s) > schedule(s + 1) for s in range(10, 109))


def _reference(epoch: int, iteration: int, iterations: int) -> float:
    """The published recipe written out: LinearLR(1e-6 -> 0.08, 1 epoch), CosineLR(0.08 -> 1e-6, 19 epochs);
    each phase's progress is (epoch_in_phase * iterations + iteration) / (phase_epochs * iterations)."""
    if epoch < 1:
        return 1e-6 + (0.08 - 1e-6) * iteration / iterations
    progress = ((epoch - 1) * iterations + iteration) / (19 * iterations)
    return 0.08 + (1e-6 - 0.08) * (1 - math.cos(progress * math.pi)) / 2


def test_matches_the_published_epoch_schedule():
    iterations = 12500  # 400000 pairs an epoch / 32
    schedule = WarmupCosine(iterations, 20 * iterations, 1e-6, 0.08, 1e-6)
    for epoch, iteration in [(0, 0), (0, 777), (0, 12499), (1, 0), (3, 4321), (10, 0), (19, 12499)]:
        assert schedule(epoch * iterations + iteration) == pytest.approx(_reference(epoch, iteration, iterations))


def test_without_warmup_and_errors():
    assert WarmupCosine(0, 4, 1e-6, 0.1, 0.0)(0) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        WarmupCosine(5, 5, 1e-6, 0.1, 0.0)
