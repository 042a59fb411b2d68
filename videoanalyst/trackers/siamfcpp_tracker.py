"""The SiamFC++ test-time algorithm, batched: K targets (of one stream or of several) in one forward per frame.

The arithmetic follows video_analyst's `SiamFCppTracker` and `SiamFCppMultiTempTracker`
(pipeline/tracker_impl/siamfcpp_track.py, siamfcpp_track_multi_temp.py): crops with mean-colour padding, template
kernels computed once, a cosine window, the scale / ratio penalty, the box update with a learning rate, and the
clamping to the image. Boxes cross the API as x, y, w, h with video_analyst's pixel convention: a box's centre is
`x + (w - 1) / 2`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from videoanalyst.models.fold_batch_norm import fold_batch_norms
from videoanalyst.models.nnpack_convolution import use_nnpack
from videoanalyst.models.siamfcpp.network import EXEMPLAR_SIZE, SiamFCpp, TemplateKernels
from videoanalyst.ops.crop import CropBackend, channel_means, crop_square_windows, window_sides


@dataclass
class TargetBatch:
    """The state of K targets tracked in one stream: where they are and what they look like.

    centers: (K, 2) x, y and sizes: (K, 2) w, h, float32 NumPy arrays as video_analyst keeps them;
    memory: the template kernels, one `TemplateKernels` per memory slot (one slot without multi-template);
    fill: (K, 3) border colour of the crops (the initial frame's channel means, in the frame's RGB order);
    image_size: (width, height) of the stream's frames; updates: frames tracked since initialisation;
    scores: (K,) the penalised, windowed score of each target's chosen cell (1 on the initial frame).
    """

    centers: np.ndarray
    sizes: np.ndarray
    memory: list[TemplateKernels]
    fill: torch.Tensor
    image_size: tuple[int, int]
    updates: int = 0
    scores: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.scores is None:
            self.scores = np.ones(len(self), dtype=np.float32)

    def __len__(self) -> int:
        return self.centers.shape[0]

    def xywh(self) -> np.ndarray:
        """(K, 4) float32 boxes x, y, w, h (video_analyst's `cxywh2xywh`)."""
        return np.concatenate([self.centers - (self.sizes - 1) / 2, self.sizes], axis=1)


class SiamFCppTracker:
    """SiamFC++'s tracking algorithm over batches of targets; one network forward per call of `track`.

    Every default is video_analyst's `SiamFCppTracker.default_hyper_params`; the published per-benchmark values
    live in `experiments/`.

    Frames come in RGB, as every stage sees them (`FramePacket.tensor`); the crops are turned to the BGR order the
    published weights expect. Unless `exact`, the tracker runs a copy of `network` with its batch norms folded
    into the convolutions (`fold_batch_norms`) in channels-last layout, its 5x5 convolutions convolved by FFT on
    CPU (`use_nnpack`).

    Args:
        network: a SiamFC++ network in eval mode on `device`.
        search_size: side of the search crop (303).
        context_amount: context added around the target for the crop side: side**2 = (w + c(w+h)) (h + c(w+h)).
        test_lr: how fast the box size follows the prediction (scaled by the penalised score); higher adapts
            faster and drifts more.
        penalty_k: strength of the penalty on scale and aspect-ratio change; higher keeps the size steadier.
        window_influence: weight of the cosine window against the score; higher prefers small motion.
        min_size: smallest width and height a box may shrink to, in pixels.
        memory_length: templates kept per target; 1 is plain SiamFC++, more is the multi-template variant.
        memory_step: with memory, a new template is taken every this many frames.
        memory_weight: with memory, weight of the later templates' mean score against the first template's.
        memory_drop_index: with memory, which slot a new template pushes out (1: the oldest after the first).
        device: where the crops and the network run.
        exact: crop and run the network as video_analyst does: crops by its own ``cv2.warpAffine`` call on any
            device (a GPU frame is copied to the host for it, 6.2 MB a 1080p frame, and the crops back), the network
            operation for operation (batch norms apart, NCHW), so that the boxes equal its boxes to float32 rounding
            even where tracking is chaotic (random weights). Otherwise a GPU frame is cropped on the GPU by the torch
            kernel (`crop_square_windows`), OpenCV 5.0's rounding, within one grey level of the installed OpenCV.
            The default runs 1.3x video_analyst's speed on CPU, against 1.1x for `exact` (evaluation/README.md),
            but its convolutions round differently, and the tracker carries that rounding from frame to frame:
            with the demo weights the boxes stay within 7e-3 px of the exact ones over 100 frames.
    """

    def __init__(
        self,
        network: SiamFCpp,
        *,
        search_size: int = 303,
        context_amount: float = 0.5,
        test_lr: float = 0.52,
        penalty_k: float = 0.04,
        window_influence: float = 0.21,
        min_size: tuple[float, float] = (10.0, 10.0),
        memory_length: int = 1,
        memory_step: int = 5,
        memory_weight: float = 0.7,
        memory_drop_index: int = 1,
        device: str | torch.device = "cpu",
        exact: bool = False,
    ) -> None:
        if memory_length < 1 or memory_step < 1 or (memory_length > 1 and not 0 <= memory_drop_index < memory_length):
            raise ValueError(
                f"need memory_length >= 1, memory_step >= 1 and, with memory, 0 <= memory_drop_index < "
                f"memory_length; got "
                f"{memory_length}, {memory_step}, {memory_drop_index}"
            )
        self.memory_format = torch.contiguous_format if exact else torch.channels_last
        self.crop_backend: CropBackend = "opencv" if exact else "auto"
        if exact:
            self.network = network
        else:
            self.network = use_nnpack(fold_batch_norms(network).to(memory_format=self.memory_format))
        self.search_size = search_size
        self.context_amount = context_amount
        self.test_lr = test_lr
        self.penalty_k = penalty_k
        self.window_influence = window_influence
        self.min_size = tuple(float(v) for v in min_size)
        self.memory_length = memory_length
        self.memory_step = memory_step
        self.memory_weight = memory_weight
        self.memory_drop_index = memory_drop_index
        self.device = torch.device(device)
        size = network.score_size(search_size)
        if size < 1:
            raise ValueError(f"search_size {search_size} leaves no score map for this network")
        self.window = np.outer(np.hanning(size), np.hanning(size)).reshape(-1)

    @torch.no_grad()
    def initialize(self, image: torch.Tensor, boxes_xywh: np.ndarray) -> TargetBatch:
        """Start K targets on one frame. image: (3, H, W) uint8 RGB on `device`; boxes_xywh: (K, 4)."""
        boxes = np.asarray(boxes_xywh, dtype=np.float32).reshape(-1, 4)
        if not np.all(boxes[:, 2:] > 0):
            raise ValueError(f"initial boxes need a positive width and height, got {boxes_xywh}")
        sizes = boxes[:, 2:].copy()
        centers = boxes[:, :2] + (sizes - 1) / 2
        fill = channel_means(image).floor().expand(len(boxes), 3).clone()
        kernels = self._template(image, centers, sizes, fill)
        return TargetBatch(centers, sizes, [kernels] * self.memory_length, fill, (image.shape[2], image.shape[1]))

    @torch.no_grad()
    def track(self, images: Sequence[torch.Tensor], batches: Sequence[TargetBatch]) -> None:
        """Advance every batch by one frame, `images[i]` being the new frame of `batches[i]`'s stream; the
        batches' centres, sizes and scores are updated in place. All targets go through one forward."""
        live = [(image, batch) for image, batch in zip(images, batches, strict=True) if len(batch)]
        if not live:
            return
        crops, scales = [], []
        for image, batch in live:
            crop, batch_scales = self._crop(image, batch.centers, batch.sizes, self.search_size, batch.fill)
            crops.append(crop)
            scales.append(batch_scales)
        memory = [
            TemplateKernels.concatenate([batch.memory[m] for _, batch in live]) for m in range(self.memory_length)
        ]
        scores, boxes = self._search(torch.cat(crops), memory)
        scores, boxes = scores.cpu().numpy(), boxes.cpu().numpy()
        start = 0
        for (_, batch), batch_scales in zip(live, scales):
            stop = start + len(batch)
            self._update(batch, scores[start:stop], boxes[start:stop], batch_scales)
            start = stop
        self._refresh_memory([image for image, _ in live], [batch for _, batch in live])

    def _crop(
        self, image: torch.Tensor, centers: np.ndarray, sizes: np.ndarray, out_size: int, fill: torch.Tensor
    ) -> tuple[torch.Tensor, np.ndarray]:
        """(K, 3, out, out) float32 BGR channels-last windows around the targets, the network's input, and their
        float32 scales (crop px per frame px)."""
        sides, scales = window_sides(torch.from_numpy(sizes), EXEMPLAR_SIZE, out_size, self.context_amount)
        crop = crop_square_windows(
            image, torch.from_numpy(centers).to(self.device), sides.to(self.device), out_size, fill, self.crop_backend
        )
        return crop.flip(1).to(torch.float32, memory_format=self.memory_format), scales.numpy()

    def _template(
        self, image: torch.Tensor, centers: np.ndarray, sizes: np.ndarray, fill: torch.Tensor
    ) -> TemplateKernels:
        """Template kernels, one target at a time: on a 6x6 feature map the convolution library sums in another
        order for a batch than for one sample, and a target's kernels must not depend on its company (this runs
        once per target, so the loop costs nothing per frame)."""
        crops, _ = self._crop(image, centers, sizes, EXEMPLAR_SIZE, fill)
        return TemplateKernels.concatenate([self.network.template(crop[None]) for crop in crops])

    def _search(self, crops: torch.Tensor, memory: list[TemplateKernels]) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores (K, S*S) fused over the memory, and boxes (K, S*S, 4) x1, y1, x2, y2 of the first template."""
        if self.memory_length == 1:
            out = self.network.search(crops, memory[0])
            return out.scores, out.boxes
        count = crops.shape[0]
        out = self.network.search(crops.repeat(self.memory_length, 1, 1, 1), TemplateKernels.concatenate(memory))
        scores = out.scores.reshape(self.memory_length, count, -1)
        fused = scores[0] * (1 - self.memory_weight) + scores[1:].mean(dim=0) * self.memory_weight
        return fused, out.boxes[:count]

    def _update(self, batch: TargetBatch, scores: np.ndarray, boxes: np.ndarray, scales: np.ndarray) -> None:
        """Pick each target's best cell and move its box there: video_analyst's `_postprocess_score`,
        `_postprocess_box` and `_restrict_box`, in NumPy float32 operation by operation as it computes them (only
        the windowed score is float64), so both trackers give the same boxes to the last bit. scores: (K, S*S);
        boxes: (K, S*S, 4) x1, y1, x2, y2 in crop pixels; scales: (K,)."""
        centers_in_crop = (boxes[..., :2] + boxes[..., 2:]) / 2
        sizes_in_crop = boxes[..., 2:] - boxes[..., :2] + 1
        target_in_crop = batch.sizes * scales[:, None]
        scale_change = _change(_padded_side(sizes_in_crop) / _padded_side(target_in_crop)[:, None])
        target_ratio = target_in_crop[:, 0] / target_in_crop[:, 1]
        ratio_change = _change(target_ratio[:, None] / (sizes_in_crop[..., 0] / sizes_in_crop[..., 1]))
        penalty = np.exp(-(ratio_change * scale_change - 1) * self.penalty_k)
        penalised = penalty * scores
        windowed = penalised * (1 - self.window_influence) + self.window * self.window_influence
        best = windowed.argmax(axis=1)
        rows = np.arange(len(best))
        rate = (penalised[rows, best] * self.test_lr)[:, None]
        best_center = centers_in_crop[rows, best] / scales[:, None]
        best_size = sizes_in_crop[rows, best] / scales[:, None]
        centers = best_center + batch.centers - np.float32(self.search_size // 2) / scales[:, None]
        sizes = batch.sizes * (1 - rate) + best_size * rate
        limits = np.array(batch.image_size, dtype=np.float32)
        batch.centers = np.minimum(np.maximum(centers, 0), limits)
        batch.sizes = np.maximum(np.minimum(sizes, limits), np.array(self.min_size, dtype=np.float32))
        batch.scores = windowed[rows, best].astype(np.float32)
        batch.updates += 1

    def _refresh_memory(self, images: list[torch.Tensor], batches: list[TargetBatch]) -> None:
        """Multi-template: every `memory_step` frames, crop a new template at the new box and push out one slot."""
        if self.memory_length == 1:
            return
        for image, batch in zip(images, batches):
            if batch.updates % self.memory_step == 0:
                kernels = self._template(image, batch.centers, batch.sizes, batch.fill)
                del batch.memory[self.memory_drop_index]
                batch.memory.append(kernels)


def _change(ratio: np.ndarray) -> np.ndarray:
    return np.maximum(ratio, 1.0 / ratio)


def _padded_side(sizes: np.ndarray) -> np.ndarray:
    """sqrt((w + p)(h + p)) with p = (w + h) / 2: the side of the padded square of each (..., 2) w, h."""
    pad = (sizes[..., 0] + sizes[..., 1]) * 0.5
    return np.sqrt((sizes[..., 0] + pad) * (sizes[..., 1] + pad))
