"""Run video_analyst's own SiamFCppTracker (unmodified) on frames from a .npz and save its boxes and timings.

Runs in its own process with a video_analyst checkout first on PYTHONPATH (its package is also called
`videoanalyst`), so it never imports ours. Only Python / NumPy compatibility shims are applied, and one for a crash
of its multi-template tracker (`_run_multi_template_calls_whole`), nothing else.

    PYTHONPATH=VIDEO_ANALYST_DIR:DEPS python evaluation/reference/video_analyst_siamfcpp.py \
        --config CONFIG.yaml --weights W.pkl --frames FRAMES.npz --out OUT.npz [--device cpu] [--threads 2]

FRAMES.npz holds `frames` (N, H, W, 3) uint8 BGR and `init` (4,) x, y, w, h. OUT.npz gets `boxes` (N, 4) x, y, w, h
(row 0 is the init box), `seconds` (N-1,) wall time of each `update`, and what its tracker keeps of each frame
(`_state`, read after each `update`): `centers`, `sizes` (N, 2) its target position and size (row 0 after `init`),
`scores` (N-1, S*S) the score map and `crop_boxes` (N-1, S*S, 4) the x1, y1, x2, y2 boxes in search-crop pixels of
the network, and the `torch` and `opencv` versions it ran on.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import sys
import time
import types

import numpy as np

# Compatibility shims for a 2020 code base on Python 3.11 / NumPy 2; they change no arithmetic.
for _name in collections.abc.__all__:  # collections.Iterable, Mapping, ... (moved to collections.abc in 3.10)
    setattr(collections, _name, getattr(collections.abc, _name))
np.int = int
np.float = float


def _run_multi_template_calls_whole() -> None:
    """video_analyst's SiamFCppMultiTempTracker (commit f4d1bcc) calls ``SiamTrack.forward(c_z_k, r_z_k, c_x, r_x,
    phase="track")`` for every template after the first, reusing the search features, and that path reads
    ``search_img``, which only the call with the search image defines: UnboundLocalError. Here such a call is run as
    the full call on the search image of the call before it, which recomputes the same c_x and r_x with the same
    operations: the boxes are the ones the repaired code would give; its timing is not comparable."""
    from videoanalyst.model.task_model.taskmodel_impl.siamese_track import SiamTrack

    forward = SiamTrack.forward

    def whole_forward(self, *args, phase=None):
        if phase == "track" and len(args) == 3:
            self._last_search_image = args[0]
        elif phase == "track" and len(args) == 4:
            args = (self._last_search_image, *args[:2])
        return forward(self, *args, phase=phase)

    SiamTrack.forward = whole_forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="a video_analyst test YAML")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--frames", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--warmup", type=int, default=0, help="updates run and discarded before timing")
    args = parser.parse_args()

    import torch

    # Its config module imports every builder, the training monitor's TensorBoard writer among them; tracking
    # never uses it, so a stand-in module saves installing tensorboard.
    for name in ("torch.utils.tensorboard", "torch.utils.tensorboard.writer"):
        stand_in = types.ModuleType(name)
        stand_in.SummaryWriter = object
        sys.modules.setdefault(name, stand_in)
    if args.threads:
        torch.set_num_threads(args.threads)
    from videoanalyst.config.config import cfg, specify_task
    from videoanalyst.model import builder as model_builder

    from videoanalyst.pipeline import builder as pipeline_builder

    _run_multi_template_calls_whole()
    cfg.merge_from_file(args.config)
    task, task_cfg = specify_task(cfg.test)
    task_cfg.model.task_model[task_cfg.model.task_model.name].pretrain_model_path = args.weights
    task_cfg.freeze()
    model = model_builder.build(task, task_cfg.model)
    tracker = pipeline_builder.build(task, task_cfg.pipeline, model)
    tracker.set_device(torch.device(args.device))

    data = np.load(args.frames)
    frames, init = data["frames"], data["init"].astype(np.float64)
    for _ in range(args.warmup):
        tracker.init(frames[0], init)
        tracker.update(frames[1])
    tracker.init(frames[0], init)
    boxes, seconds = [np.asarray(init, dtype=np.float64)], []
    center, size = tracker._state["state"]
    states = {"centers": [np.array(center)], "sizes": [np.array(size)], "scores": [], "crop_boxes": []}
    for frame in frames[1:]:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        box = tracker.update(frame)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
        boxes.append(np.asarray(box, dtype=np.float64))
        for key, value in zip(states, (*tracker._state["state"], tracker._state["score"], tracker._state["all_box"])):
            states[key].append(np.array(value))
    import cv2

    np.savez(
        args.out,
        boxes=np.stack(boxes),
        seconds=np.asarray(seconds),
        torch=torch.__version__,
        opencv=cv2.__version__,
        **{key: np.stack(values) for key, values in states.items()},
    )


if __name__ == "__main__":
    main()
