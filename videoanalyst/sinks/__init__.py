"""Sinks: write what the stages attached (annotated video, MOTChallenge / GOT-10k result files, JSON lines)."""
