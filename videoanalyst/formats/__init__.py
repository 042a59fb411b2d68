"""Converters between our types and the row formats of MOTChallenge, GOT-10k, VOT and JSON; kept off the types."""
