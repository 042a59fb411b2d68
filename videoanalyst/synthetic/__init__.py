"""Synthetic scenes: a seeded renderer with exact ground truth (`scene`), and writers of the GOT-10k, VOT and
MOT17 folder layouts (`export`), so every source, tracker and evaluator can be run and tested without data."""
