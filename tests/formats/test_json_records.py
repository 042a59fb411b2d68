import numpy as np

from videoanalyst.core import Detections, TargetState
from videoanalyst.formats.json_records import (
    detections_to_records,
    record_to_target,
    records_to_detections,
    target_to_record,
)


def test_detections_round_trip():
    dets = Detections(xyxy=[[1, 2, 3, 4], [5, 6, 7, 8]], scores=[0.5, 0.25], class_ids=[1, 2], track_ids=[4, -1],
                      embeddings=[[1, 0], [0, 1]], extra={"visibility": [0.5, 1.0]})
    back = records_to_detections(detections_to_records(dets))
    for field in ("xyxy", "scores", "class_ids", "track_ids", "embeddings"):
        np.testing.assert_allclose(getattr(back, field), getattr(dets, field))
    np.testing.assert_allclose(back.extra["visibility"], [0.5, 1.0])
    assert len(records_to_detections([])) == 0


def test_target_round_trip_with_absent_and_polygon():
    absent = TargetState([np.nan] * 4, score=0.0, present=False)
    record = target_to_record(absent)
    assert record["xyxy"] is None and record["present"] is False
    assert not record_to_target(record).present
    rotated = TargetState.from_polygon([0, 5, 5, 0, 10, 5, 5, 10], score=0.5)
    back = record_to_target(target_to_record(rotated))
    np.testing.assert_allclose(back.polygon, rotated.polygon)
    np.testing.assert_allclose(back.xyxy, rotated.xyxy)
