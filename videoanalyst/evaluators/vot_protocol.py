"""The VOT supervised (baseline) protocol: drive a single-object tracker over VOT sequences, re-initialising it
after each failure, and write the result files `videoanalyst.evaluators.vot` scores.

As vot-toolkit 0.9.0 runs it (``vot/experiment/multirun.py``: ``SupervisedExperiment.execute``,
``MultiRunExperiment._can_stop``; VOT2018 settings from ``vot/stack/vot2018/shortterm.yaml``):
- the tracker is initialised on frame 0 with the ground truth's bounding rectangle (``Rectangle.convert`` of the
  polygon: min / max of its corners), the line written is ``1``;
- on every later frame the tracker's box is compared with the ground truth (raster overlap bounded by the image,
  `videoanalyst.evaluators.vot_overlap`); an overlap <= `failure_overlap` (0) is a failure, ``2``; the next
  `skip_initialize` - 1 frames are skipped, ``0``, and the tracker is re-initialised on the `skip_initialize`-th
  (5: a failure on frame f re-initialises on f + 5), after also skipping frames carrying any of `skip_tags`
  (none in VOT2018);
- otherwise the line is the box ``x,y,w,h``, written at the float32 precision the toolkit keeps, and the failure
  test is made on exactly what is written; a box with a NaN or infinite value is a failure;
- files: ``<results_root>/<tracker>/<experiment>/<seq>/<seq>_001.txt`` (``_002``... for further repetitions) and
  the per-frame seconds of ``initialize`` / ``track`` in ``<seq>_001_time.value`` (the toolkit's name for a run's
  ``time`` property; an empty line on skipped frames); image loading is not timed;
- repetitions stop early once 3 runs exist and are identical (we compare the files' text; the toolkit compares
  regions by overlap), as a deterministic tracker gains nothing from more.

Resumable: a run whose result file is complete (one valid line a frame) is kept and not run again. Each run is
written to a temporary file renamed into place when the sequence is done, so a crash loses at most the run in
progress.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from videoanalyst.errors import InputError
from videoanalyst.evaluators.vot import BASELINE, VotSequence, read_vot_sequences
from videoanalyst.evaluators.vot_overlap import region_overlap
from videoanalyst.formats.vot_results import (
    FAILURE,
    INITIALIZATION,
    SKIPPED,
    format_vot_code,
    format_vot_region,
    read_vot_run,
    vot_result_path,
    vot_time_path,
)
from videoanalyst.pipeline.progress import Progress
from videoanalyst.sources.image_sequences import read_image

#: VOT2018: a failure on frame f re-initialises the tracker on frame f + 5 (``skip_initialize``).
VOT2018_SKIP_INITIALIZE = 5
#: Identical runs after which the toolkit stops repeating (``MultiRunExperiment._can_stop``).
IDENTICAL_RUNS_TO_STOP = 3


@runtime_checkable
class SingleObjectTracker(Protocol):
    """What the protocol drives: any object with these two methods."""

    def initialize(self, image: np.ndarray, box_xywh: np.ndarray) -> None:
        """Start (or restart) tracking the target in `box_xywh` (4,) x, y, w, h pixels of `image`, (H, W, 3)
        uint8 RGB."""

    def track(self, image: np.ndarray) -> np.ndarray:
        """The target's (4,) x, y, w, h box in the next frame, (H, W, 3) uint8 RGB."""


def run_vot_supervised(
    tracker: SingleObjectTracker,
    tracker_name: str,
    gt_root: Path,
    results_root: Path,
    *,
    sequences: list[str] | None = None,
    experiment: str = BASELINE,
    repetitions: int = 1,
    skip_initialize: int = VOT2018_SKIP_INITIALIZE,
    failure_overlap: float = 0.0,
    skip_tags: Sequence[str] = (),
    progress: bool = False,
    progress_interval: float = 30.0,
) -> list[Path]:
    """Run `tracker` by the supervised protocol over the VOT sequences under `gt_root` and write its result files
    under ``results_root/tracker_name/experiment``. Returns every result file, written now or found complete.

    Args:
        sequences: names to run, in this order; None: all.
        repetitions: runs per sequence (VOT2018: 15, stopping after 3 identical runs, so 3 for a deterministic
            tracker).
        skip_initialize: frames from a failure to the re-initialisation.
        failure_overlap: an overlap at or below this is a failure.
        skip_tags: after a failure, frames carrying any of these tags are skipped too before re-initialising.
        progress: show each run's frames on stderr (`Progress`: a bar on a terminal, else a line every
            `progress_interval` seconds).
        progress_interval: seconds between two such lines; 0: a line after every frame.

    Raises:
        InputError: naming the file for missing or malformed ground truth or images.
        ValueError: for settings out of range, or a tracker box that is not 4 numbers.
    """
    if repetitions < 1 or skip_initialize < 1 or not 0 <= failure_overlap <= 1:
        raise ValueError(
            f"run_vot_supervised: need repetitions >= 1, skip_initialize >= 1, 0 <= failure_overlap "
            f"<= 1; got {repetitions}, {skip_initialize}, {failure_overlap}"
        )
    paths = []
    for sequence in read_vot_sequences(gt_root, sequences):
        folder = results_root / tracker_name / experiment / sequence.name
        for repetition in range(1, repetitions + 1):
            path = vot_result_path(folder, sequence.name, repetition)
            if not _complete(path, len(sequence)):
                if _identical_runs(folder, sequence.name, repetitions):
                    break
                with Progress(len(sequence), description=f"{sequence.name} run {repetition}", enabled=progress,
                              interval=progress_interval) as frames_done:
                    lines, times = supervised_run(
                        tracker,
                        sequence,
                        skip_initialize=skip_initialize,
                        failure_overlap=failure_overlap,
                        skip_tags=skip_tags,
                        progress=frames_done,
                    )
                _write_atomically(
                    vot_time_path(folder, sequence.name, repetition),
                    "".join("\n" if t is None else f"{t:.8f}\n" for t in times),
                )
                _write_atomically(path, "".join(lines))
            paths.append(path)
    return paths


def supervised_run(
    tracker: SingleObjectTracker,
    sequence: VotSequence,
    *,
    skip_initialize: int,
    failure_overlap: float,
    skip_tags: Sequence[str],
    progress: Progress | None = None,
) -> tuple[list[str], list[float | None]]:
    """One supervised run over `sequence` (settings as `run_vot_supervised`): the result file's lines, and the
    seconds `initialize` / `track` took on each frame (None on skipped frames). Frames passed, tracked or skipped,
    are counted in `progress` when given."""
    lines = [format_vot_code(SKIPPED)] * len(sequence)
    times: list[float | None] = [None] * len(sequence)
    skipped_by_tag = np.zeros(len(sequence), dtype=bool)
    for tag in set(skip_tags) & set(sequence.tags):
        skipped_by_tag |= sequence.tags[tag]
    frame = 0
    while frame < len(sequence):
        if progress is not None:
            progress.update(frame - progress.done)
        box = _initial_box(sequence, frame)
        image = read_image(sequence.images[frame])
        start = time.perf_counter()
        tracker.initialize(image, box)
        times[frame] = time.perf_counter() - start
        lines[frame] = format_vot_code(INITIALIZATION)
        frame += 1
        while frame < len(sequence):
            image = read_image(sequence.images[frame])
            start = time.perf_counter()
            box = np.asarray(tracker.track(image), dtype=np.float32).reshape(-1)
            times[frame] = time.perf_counter() - start
            if box.shape != (4,):
                raise ValueError(
                    f"{sequence.name}: frame {frame + 1}: the tracker returned {box.shape[0]} values; "
                    f"expected a box x, y, w, h"
                )
            lost = not np.isfinite(box).all()
            if lost or region_overlap(box, sequence.regions[frame], sequence.size) <= failure_overlap:
                lines[frame] = format_vot_code(FAILURE)
                frame += skip_initialize
                while frame < len(sequence) and skipped_by_tag[frame]:
                    frame += 1
                break
            lines[frame] = format_vot_region(box)
            frame += 1
            if progress is not None:
                progress.update(frame - progress.done)
    if progress is not None:
        progress.update(len(sequence) - progress.done)
    return lines, times


def _initial_box(sequence: VotSequence, frame: int) -> np.ndarray:
    """(4,) x, y, w, h: the ground-truth rectangle, or the bounding rectangle of the ground-truth polygon, in
    float32 as the toolkit converts it (``vot/region/shapes.py``: ``Rectangle.convert``)."""
    region = np.asarray(sequence.regions[frame], dtype=np.float32)
    if not len(region):
        raise InputError(
            f"{sequence.folder / 'groundtruth.txt'}:{frame + 1}: no ground-truth region (NaN) on a "
            f"frame where the supervised protocol initialises the tracker"
        )
    if len(region) == 4:
        return region.astype(np.float64)
    corners = region.reshape(-1, 2)
    low, high = corners.min(axis=0), corners.max(axis=0)
    return np.concatenate([low, high - low]).astype(np.float64)


def _complete(path: Path, num_frames: int) -> bool:
    """Whether `path` is a readable result file of one line a frame."""
    if not path.is_file():
        return False
    try:
        read_vot_run(path, num_frames)
    except InputError:
        return False
    return True


def _identical_runs(folder: Path, sequence: str, repetitions: int) -> bool:
    """Whether at least `IDENTICAL_RUNS_TO_STOP` runs exist and all have the same text."""
    paths = [vot_result_path(folder, sequence, i) for i in range(1, repetitions + 1)]
    texts = [path.read_text() for path in paths if path.is_file()]
    return len(texts) >= IDENTICAL_RUNS_TO_STOP and all(text == texts[0] for text in texts)


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(text)
    staging.replace(path)
