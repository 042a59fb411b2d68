"""Detector stages: attach `Detections` to each frame."""
