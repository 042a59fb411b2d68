"""Single-object trackers: the algorithms (`*_tracker.py`) and their pipeline stages."""
