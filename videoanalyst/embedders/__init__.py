"""Embedder stages: attach an appearance embedding to every detected box, for association by appearance."""
