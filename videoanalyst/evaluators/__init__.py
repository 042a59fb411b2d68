"""Offline evaluators: score result files in the official layouts as the official toolkits would."""

from videoanalyst.evaluators.got10k import Got10kReport, evaluate_got10k
from videoanalyst.evaluators.mot import MotReport, evaluate_mot
from videoanalyst.evaluators.ope import OpeReport, evaluate_ope
from videoanalyst.evaluators.vid_map import VidMapResult, vid_map
from videoanalyst.evaluators.vot import VotReport, evaluate_vot
from videoanalyst.evaluators.vot_protocol import SingleObjectTracker, run_vot_supervised

__all__ = [
    "Got10kReport",
    "MotReport",
    "OpeReport",
    "SingleObjectTracker",
    "VidMapResult",
    "VotReport",
    "evaluate_got10k",
    "evaluate_mot",
    "evaluate_ope",
    "evaluate_vot",
    "run_vot_supervised",
    "vid_map",
]
