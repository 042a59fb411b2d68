"""Multi-object association: stages that turn a frame's detections into tracks with stable ids.

One module per algorithm (`sort.py`, `deep_sort.py`, `byte_track.py`, `oc_sort.py`, `tracktor.py`), each a
subclass of `associator.Associator`; the Kalman models, matching and camera-motion steps they share sit beside them.
"""
