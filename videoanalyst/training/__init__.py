"""Training SiamFC++ as video_analyst's published recipe does, on GOT-10k folders or synthetic scenes:
`python -m videoanalyst.train --exp siamfcpp_alexnet_synthetic_train`."""

from videoanalyst.training.config import TrainConfig, load_train_config
from videoanalyst.training.losses import SiamFCppLoss
from videoanalyst.training.pairs import PairSampler, TrackSequence, got10k_sequences, synthetic_sequences
from videoanalyst.training.schedule import WarmupCosine
from videoanalyst.training.targets import densebox_targets
from videoanalyst.training.trainer import train

__all__ = [
    "PairSampler",
    "SiamFCppLoss",
    "TrackSequence",
    "TrainConfig",
    "WarmupCosine",
    "densebox_targets",
    "got10k_sequences",
    "load_train_config",
    "synthetic_sequences",
    "train",
]
