"""SiamFC++ networks (AlexNet and GoogLeNet variants) and their checkpoint loading."""

from videoanalyst.models.siamfcpp.checkpoint import load_checkpoint, official_to_ours, ours_to_official, read_state_dict
from videoanalyst.models.siamfcpp.head import DenseboxHead
from videoanalyst.models.siamfcpp.network import (
    EXEMPLAR_SIZE,
    SearchOutput,
    SiamFCpp,
    TemplateKernels,
    depthwise_correlation,
    score_map_points,
    siamfcpp_alexnet,
    siamfcpp_googlenet,
)

__all__ = [
    "EXEMPLAR_SIZE",
    "DenseboxHead",
    "SearchOutput",
    "SiamFCpp",
    "TemplateKernels",
    "depthwise_correlation",
    "load_checkpoint",
    "official_to_ours",
    "ours_to_official",
    "read_state_dict",
    "score_map_points",
    "siamfcpp_alexnet",
    "siamfcpp_googlenet",
]
