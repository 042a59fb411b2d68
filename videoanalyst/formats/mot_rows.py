"""MOTChallenge txt rows <-> `Detections`.

Rows are comma-separated, frames 1-based, boxes as left, top, width, height:
- results and det.txt: ``frame, id, x, y, w, h, conf, -1, -1, -1`` (id -1 in det.txt), 7 to 10 columns: the last
  three are the world coordinates x, y, z (-1: unknown), which MOT15-20 files hold and some tools leave out;
- gt.txt: ``frame, id, x, y, w, h, consider, class, visibility``, 9 columns (MOT16, MOT17, MOT20).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from videoanalyst.core.boxes import xywh_to_xyxy, xyxy_to_xywh
from videoanalyst.core.detections import Detections
from videoanalyst.errors import InputError

MotKind = Literal["result", "gt"]
#: Columns a row may have: (fewest, most).
MOT_COLUMNS: dict[MotKind, tuple[int, int]] = {"result": (7, 10), "gt": (9, 9)}
_COLUMN_NAMES: dict[MotKind, str] = {"result": "frame,id,x,y,w,h,conf[,x,y,z]",
                                     "gt": "frame,id,x,y,w,h,consider,class,visibility"}


def detections_to_mot_rows(frame_number: int, detections: Detections) -> np.ndarray:
    """(N, 10) float64 result rows for 1-based `frame_number`: frame, id, x, y, w, h, score, -1, -1, -1."""
    rows = np.full((len(detections), 10), -1.0)
    rows[:, 0] = frame_number
    rows[:, 1] = detections.track_ids
    rows[:, 2:6] = xyxy_to_xywh(detections.xyxy)
    rows[:, 6] = detections.scores
    return rows


def format_mot_rows(rows: np.ndarray) -> str:
    """Result rows as MOTChallenge text lines (boxes to 1/1000 px, as precise as float32 input allows)."""
    return "".join(
        f"{int(r[0])},{int(r[1])},{r[2]:.3f},{r[3]:.3f},{r[4]:.3f},{r[5]:.3f},{r[6]:.6g},-1,-1,-1\n" for r in rows
    )


def format_mot_gt_rows(frame_number: int, detections: Detections) -> str:
    """gt.txt lines of one frame (1-based): ``frame,id,x,y,w,h,consider,class,visibility``.

    ``consider`` comes from the extra field of that name when present, else 1; ``visibility`` likewise, else 1.
    """
    xywh = xyxy_to_xywh(detections.xyxy)
    consider = detections.extra.get("consider", np.ones(len(detections), np.int64))
    visibility = detections.extra.get("visibility", np.ones(len(detections), np.float32))
    return "".join(f"{frame_number},{detections.track_ids[i]},{xywh[i, 0]:.3f},{xywh[i, 1]:.3f},{xywh[i, 2]:.3f},"
                   f"{xywh[i, 3]:.3f},{int(consider[i])},{detections.class_ids[i]},{visibility[i]:.6f}\n"
                   for i in range(len(detections)))


def mot_rows_to_detections(rows: np.ndarray, kind: MotKind = "result") -> Detections:
    """Rows of one frame -> `Detections`. gt rows keep `consider` and `visibility` as extra fields."""
    rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
    xyxy = xywh_to_xyxy(rows[:, 2:6])
    if kind == "gt":
        return Detections(
            xyxy=xyxy,
            class_ids=rows[:, 7].astype(np.int64),
            track_ids=rows[:, 1].astype(np.int64),
            extra={"consider": rows[:, 6].astype(np.int64), "visibility": rows[:, 8].astype(np.float32)},
        )
    return Detections(xyxy=xyxy, scores=rows[:, 6], track_ids=rows[:, 1].astype(np.int64))


def read_mot_file(path: str | Path, kind: MotKind = "result") -> dict[int, Detections]:
    """A MOTChallenge file as {1-based frame: Detections}, frames in ascending order.

    Accepts, per `kind`, the rows `MOT_COLUMNS` allows: results and det.txt 7 to 10 columns (those left out of
    the world coordinates read as -1), gt.txt 9. Blank lines are skipped; NaN is refused in the frame, id and box
    (and, in gt.txt, every column), not in a result's conf, which the reader of det.txt checks itself.

    Raises:
        InputError: naming the file and line for a column count outside that range, a non-numeric value, NaN, a
            negative size, or a frame number below 1.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such MOTChallenge file")
    fewest, most = MOT_COLUMNS[kind]
    checked = 9 if kind == "gt" else 6  # columns where NaN is refused
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.replace(" ", "").replace("\t", "").split(",")
        if not fewest <= len(fields) <= most:
            expected = f"{fewest} to {most}" if fewest < most else f"{fewest}"
            raise InputError(f"{path}:{number}: expected {expected} comma-separated columns "
                             f"({_COLUMN_NAMES[kind]}), got {len(fields)}: {line!r}")
        try:
            values = [float(v) for v in fields]
        except ValueError:
            raise InputError(f"{path}:{number}: non-numeric value in {line!r}") from None
        if any(np.isnan(values[:checked])):
            raise InputError(f"{path}:{number}: NaN in {line!r}")
        if values[0] < 1 or values[4] < 0 or values[5] < 0:
            raise InputError(f"{path}:{number}: expected frame >= 1 and non-negative width and height, got {line!r}")
        rows.append(values + [-1.0] * (10 - len(values)))
    if not rows:
        return {}
    table = np.array(rows, dtype=np.float64).reshape(-1, 10)
    frames = table[:, 0].astype(np.int64)
    order = np.argsort(frames, kind="stable")
    table, frames = table[order], frames[order]
    starts = np.flatnonzero(np.r_[True, frames[1:] != frames[:-1]])
    chunks = np.split(table, starts[1:])
    return {int(frames[s]): mot_rows_to_detections(chunk, kind) for s, chunk in zip(starts, chunks)}
