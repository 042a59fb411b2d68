"""Run a single-object tracker over a data set and write its result files in the benchmark's official layout,
resumably and sharded: each process (`Shard`) takes its own sequences, skips those whose files are complete, and
writes each sequence's files when it is done (to a temporary name, then renamed), so a crash loses at most the
sequence in progress.

Layouts, under the tracker's folder ``<results>/<tracker>``, as got10k 0.1.3 writes them (``ExperimentGOT10k._record``,
``ExperimentOTB._record`` in ``got10k/experiments/``):
- ``got10k``: ``SEQ/SEQ_001.txt`` (one ``x,y,w,h`` row a frame, ``%.3f``) and ``SEQ/SEQ_time.txt`` (seconds, ``%.8f``);
  one run, as the toolkit makes one of a deterministic tracker;
- ``ope``: ``SEQ.txt`` and ``times/SEQ_time.txt``, the same rows.
The first row is the initial box, its time that of ``initialize``; image loading is not timed (it runs ahead in a
background thread). While a sequence runs, its progress shows on stderr (`Progress`: a bar on a terminal, else a
line every `progress_interval` seconds). VOT's supervised protocol, with its re-initialisations, is
`run_vot_supervised`'s; `run_vot_dataset` shards it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from videoanalyst.core.target_state import TargetState
from videoanalyst.errors import InputError
from videoanalyst.evaluators.ope import ope_sequences
from videoanalyst.evaluators.shards import Shard
from videoanalyst.evaluators.vot_protocol import SingleObjectTracker, _write_atomically, run_vot_supervised
from videoanalyst.formats.got10k_rows import format_time_rows, target_to_got10k_row
from videoanalyst.formats.sot_results import read_ope_groundtruth, read_sot_boxes
from videoanalyst.pipeline.progress import Progress
from videoanalyst.sources.got10k import Got10kSource
from videoanalyst.sources.image_sequences import list_images, read_image
from videoanalyst.sources.prefetch import Prefetcher
from videoanalyst.sources.vot import VotSource

SotLayout = Literal["got10k", "ope"]
#: Frames decoded ahead of the tracker.
DECODE_AHEAD = 8


@dataclass(frozen=True)
class SotSequence:
    """What a one-pass run needs of a sequence.

    Args:
        name: the sequence's name (its folder's), which names its result files.
        images: the frames' image files, in order.
        init_box: (4,) x, y, w, h of the target in the first frame.
    """

    name: str
    images: list[Path]
    init_box: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class RunSummary:
    """What one process did: sequences tracked now and those skipped as complete, in its order."""

    tracked: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_sot_sequences(layout: SotLayout, gt_root: Path) -> list[SotSequence]:
    """The sequences under `gt_root` in the order the evaluator scores them: a GOT-10k split or sequence folder
    (`Got10kSource`: ``list.txt``, else its sequence folders; the test split's first-frame box is enough), or an
    OPE data set (`ope_sequences`; images in the sequence folder's ``img/``, else in the folder itself).

    Raises:
        InputError: naming the folder or file for missing images, malformed ground truth, an image count other than
            the ground truth's row count (OPE), or no box in the first frame.
    """
    if layout == "got10k":
        source = Got10kSource(str(gt_root))
        sequences = []
        for folder in source.folders:
            sequence = source.read_sequence(folder)
            first = sequence.ground_truth[0]
            box = first.xywh if first is not None and first.present else np.full(4, np.nan)
            sequences.append(_sequence(folder.name, sequence.images, box, folder / "groundtruth.txt"))
        return sequences
    sequences = []
    for folder in ope_sequences(gt_root):
        truth = read_ope_groundtruth(folder)
        images = list_images(folder / "img" if (folder / "img").is_dir() else folder)
        if len(images) != len(truth):
            raise InputError(
                f"{folder}: {len(images)} images but {len(truth)} ground-truth rows; a one-pass run needs one "
                f"image a ground-truth row"
            )
        sequences.append(_sequence(folder.name, images, truth[0], folder))
    return sequences


def result_files(layout: SotLayout, tracker_folder: Path, sequence: str) -> tuple[Path, Path]:
    """(boxes file, time file) of one sequence in `layout`, the paths `videoanalyst.formats.sot_results` reads."""
    if layout == "got10k":
        return tracker_folder / sequence / f"{sequence}_001.txt", tracker_folder / sequence / f"{sequence}_time.txt"
    return tracker_folder / f"{sequence}.txt", tracker_folder / "times" / f"{sequence}_time.txt"


def is_complete(layout: SotLayout, tracker_folder: Path, sequence: SotSequence) -> bool:
    """Whether a sequence's files are done: a boxes file that reads with one valid row a frame, and a time file."""
    boxes, times = result_files(layout, tracker_folder, sequence.name)
    if not times.is_file():
        return False
    try:
        read_sot_boxes(boxes, len(sequence))
    except InputError:
        return False
    return True


def run_sot_dataset(
    make_tracker: Callable[[], SingleObjectTracker],
    sequences: list[SotSequence],
    tracker_folder: Path,
    layout: SotLayout,
    shard: Shard = Shard(),
    log: Callable[[str], None] | None = None,
    *,
    progress: bool = True,
    progress_interval: float = 30.0,
) -> RunSummary:
    """Track this process's share of `sequences` (`Shard.pick`) and write their files under `tracker_folder`,
    skipping those already complete (`is_complete`).

    Args:
        make_tracker: builds the tracker, called once, and only when a sequence is left to track.
        log: called with a line after each sequence tracked.
        progress: show each sequence's frames on stderr as they are tracked: a bar on a terminal, else a line
            every `progress_interval` seconds (CI logs, nohup, a pipe).
        progress_interval: seconds between two such lines; 0: a line after every frame.
    """
    summary = RunSummary()
    tracker = None
    for sequence in shard.pick(sequences):
        if is_complete(layout, tracker_folder, sequence):
            summary.skipped.append(sequence.name)
            continue
        if tracker is None:
            tracker = make_tracker()
        with Progress(len(sequence), description=f"{shard.label}{sequence.name}", enabled=progress,
                      interval=progress_interval) as frames_done:
            boxes, times = track_sequence(tracker, sequence, frames_done)
        write_sequence(layout, tracker_folder, sequence.name, boxes, times)
        summary.tracked.append(sequence.name)
        if log is not None:
            log(f"{shard.label}{sequence.name}: tracked {len(sequence)} frames in {times.sum():.2f} s")
    return summary


def track_sequence(
    tracker: SingleObjectTracker, sequence: SotSequence, progress: Progress | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One pass over `sequence`: `initialize` on the first frame at `SotSequence.init_box`, `track` on the others,
    each frame counted in `progress` when given. Returns (N, 4) x, y, w, h boxes (the first the initial box) and
    (N,) seconds each call took.

    Raises:
        ValueError: when the tracker returns other than 4 numbers.
        InputError: when it returns a NaN or infinite box (weights that overflow), naming the sequence and frame,
            so that no result file with NaN rows is written.
    """
    boxes = np.empty((len(sequence), 4))
    times = np.empty(len(sequence))
    frames = Prefetcher((read_image(path) for path in sequence.images), DECODE_AHEAD, f"decode-{sequence.name}")
    try:
        for index, image in enumerate(frames):
            start = time.perf_counter()
            if index == 0:
                tracker.initialize(image, sequence.init_box)
                box = sequence.init_box
            else:
                box = tracker.track(image)
            times[index] = time.perf_counter() - start
            box = np.asarray(box, dtype=np.float64).reshape(-1)
            if box.shape != (4,):
                raise ValueError(
                    f"{sequence.name}: frame {index + 1}: the tracker returned {box.shape[0]} values; expected a "
                    f"box x, y, w, h"
                )
            if not np.isfinite(box).all():
                raise InputError(
                    f"{sequence.name}: frame {index + 1}: the tracker returned the non-finite box {box.tolist()}; "
                    f"its network produced NaN or infinite values (check the weights)"
                )
            boxes[index] = box
            if progress is not None:
                progress.update(1)
    finally:
        frames.close()
    return boxes, times


def write_sequence(
    layout: SotLayout, tracker_folder: Path, sequence: str, boxes: np.ndarray, times: np.ndarray
) -> None:
    """Write one sequence's boxes and times in `layout`, each file to a temporary name then renamed into place, the
    boxes last: a boxes file exists only once both are whole."""
    boxes_path, times_path = result_files(layout, tracker_folder, sequence)
    _write_atomically(times_path, format_time_rows(times))
    _write_atomically(boxes_path, "".join(target_to_got10k_row(TargetState.from_xywh(box)) for box in boxes))


def run_vot_dataset(
    make_tracker: Callable[[], SingleObjectTracker],
    tracker_name: str,
    gt_root: Path,
    results_root: Path,
    shard: Shard = Shard(),
    repetitions: int = 1,
) -> list[str]:
    """`run_vot_supervised` over this process's share of the VOT sequences under `gt_root` (`Shard.pick`, in the
    order `VotSource` lists them), complete runs kept as they are. Returns the names of this process's sequences.

    Args:
        make_tracker: builds the tracker; called only when this process has sequences.
        repetitions: runs per sequence, stopping after 3 identical ones (as `run_vot_supervised`).
    """
    names = shard.pick([folder.name for folder in VotSource(str(gt_root)).folders])
    if names:
        run_vot_supervised(
            make_tracker(), tracker_name, gt_root, results_root, sequences=names, repetitions=repetitions,
            progress=True,
        )
    return names


def _sequence(name: str, images: list[Path], box: np.ndarray, where: Path) -> SotSequence:
    box = np.asarray(box, dtype=np.float64)
    if not np.isfinite(box).all() or (box[2:] <= 0).any():
        raise InputError(
            f"{where}: no target box in the first frame (got {', '.join(f'{v:g}' for v in box)}); a one-pass run "
            f"starts the tracker there"
        )
    return SotSequence(name, images, box)
