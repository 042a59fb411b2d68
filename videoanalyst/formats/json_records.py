"""`Detections` and `TargetState` <-> JSON-ready records (plain lists and numbers)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from videoanalyst.core.detections import Detections
from videoanalyst.core.target_state import TargetState


def detections_to_records(detections: Detections) -> list[dict[str, Any]]:
    """One dict a box: xyxy, score, class_id, track_id, every extra field, and the embedding when present."""
    records = []
    for i in range(len(detections)):
        record: dict[str, Any] = {
            "xyxy": [round(float(v), 3) for v in detections.xyxy[i]],
            "score": float(detections.scores[i]),
            "class_id": int(detections.class_ids[i]),
            "track_id": int(detections.track_ids[i]),
        }
        for name, values in detections.extra.items():
            record[name] = np.asarray(values[i]).tolist()
        if detections.embeddings is not None:
            record["embedding"] = detections.embeddings[i].tolist()
        records.append(record)
    return records


def records_to_detections(records: list[dict[str, Any]]) -> Detections:
    """The inverse of `detections_to_records`."""
    if not records:
        return Detections.empty()
    base = {"xyxy", "score", "class_id", "track_id", "embedding"}
    extra_names = [name for name in records[0] if name not in base]
    return Detections(
        xyxy=np.array([r["xyxy"] for r in records], dtype=np.float32),
        scores=np.array([r["score"] for r in records]),
        class_ids=np.array([r["class_id"] for r in records]),
        track_ids=np.array([r["track_id"] for r in records]),
        embeddings=np.array([r["embedding"] for r in records]) if "embedding" in records[0] else None,
        extra={name: np.array([r[name] for r in records]) for name in extra_names},
    )


def target_to_record(target: TargetState) -> dict[str, Any]:
    """xyxy (null where absent), score, present, and the polygon when there is one."""
    record: dict[str, Any] = {
        "xyxy": None if not all(map(math.isfinite, target.xyxy)) else [round(float(v), 3) for v in target.xyxy],
        "score": target.score,
        "present": target.present,
    }
    if target.polygon is not None:
        record["polygon"] = target.polygon.round(3).tolist()
    return record


def record_to_target(record: dict[str, Any]) -> TargetState:
    """The inverse of `target_to_record`."""
    xyxy = record["xyxy"] if record["xyxy"] is not None else [math.nan] * 4
    return TargetState(xyxy, score=record["score"], present=record["present"], polygon=record.get("polygon"))
