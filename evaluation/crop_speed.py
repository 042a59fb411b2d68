"""How fast `crop_square_windows` crops K search windows from a frame, next to video_analyst's cv2.warpAffine crop.

Run from the repository root:

    python evaluation/crop_speed.py                      # CPU, and CUDA when there is a GPU
    python evaluation/crop_speed.py --device cpu --threads 1 --repeats 21 --json /tmp/crop_speed.json

For K = 1, 8 and 64 windows (sides 150 to 700 px around random centres, some reaching past the border) of a
1280x720 frame (``--frame``), each resized to 303 px: the cv2 contender makes one ``cv2.warpAffine`` call per window
as video_analyst's ``get_subwindow_tracking`` does, then turns the crops into the (K, 3, 303, 303) uint8 tensor a
tracker feeds its network (on the device); the opencv contender is one `crop_square_windows` call with the opencv
backend on the frame as the tracker holds it (on a GPU: the frame copied to the host, cropped by cv2, the crops
copied back, as ``exact=True`` does); the torch contender is one call with the torch kernel (the frame uploaded
first when the device is a GPU). All get the same windows; the opencv crops are checked to equal cv2's bit for
bit, the torch kernel's to be within one grey level (OpenCV 5.0's rounding). Contenders alternate so that machine
noise hits all alike; the table gives the median milliseconds per frame.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from machine import describe_machine, describe_run, describe_software

from videoanalyst.ops import crop_square_windows

SEARCH_SIZE = 303
WINDOW_COUNTS = (1, 8, 64)
FILL = (104, 117, 123)


def cv2_crops(frame: np.ndarray, windows: np.ndarray, device: torch.device) -> torch.Tensor:
    """video_analyst's crop, one warpAffine a window (M from float32 corners), then the tensor a tracker needs."""
    crops = []
    for cx, cy, side in windows:
        box = np.array([cx, cy, side, side], dtype=np.float32)
        x0, y0 = box[:2] - (box[2:] - 1) / 2
        x1, y1 = box[:2] + (box[2:] - 1) / 2
        matrix = np.array([(x1 - x0) / (SEARCH_SIZE - 1), 0, x0, 0, (y1 - y0) / (SEARCH_SIZE - 1), y0]).reshape(2, 3)
        crops.append(
            cv2.warpAffine(
                frame,
                matrix,
                (SEARCH_SIZE, SEARCH_SIZE),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=FILL,
            )
        )
    return torch.from_numpy(np.stack(crops)).to(device).permute(0, 3, 1, 2).contiguous()


def torch_crops(frame: np.ndarray, windows: np.ndarray, device: torch.device) -> torch.Tensor:
    """One `crop_square_windows` call on the (3, H, W) view of the frame, on `device`, by the torch kernel (on CPU
    the library crops with cv2 itself; this measures why)."""
    image = torch.from_numpy(frame).to(device).permute(2, 0, 1)
    windows = torch.from_numpy(windows).to(device)
    fill = torch.tensor(FILL, device=device)
    return crop_square_windows(image, windows[:, :2], windows[:, 2], SEARCH_SIZE, fill, backend="torch")


def opencv_crops(frame: torch.Tensor, windows: np.ndarray, device: torch.device) -> torch.Tensor:
    """One `crop_square_windows` call with the opencv backend on a (3, H, W) frame already on `device`."""
    windows = torch.from_numpy(windows).to(device)
    fill = torch.tensor(FILL, device=device)
    return crop_square_windows(frame, windows[:, :2], windows[:, 2], SEARCH_SIZE, fill, backend="opencv")


def timed(run: Callable[[], torch.Tensor], device: torch.device) -> float:
    """Milliseconds of one call, the device synchronised before and after."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    run()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=11, help="timed runs of each contender and window count")
    parser.add_argument(
        "--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CPU, and CUDA too when a GPU is there"
    )
    parser.add_argument(
        "--json", type=Path, default=Path("evaluation/results/crop_speed.json"), help="where to write the numbers"
    )
    parser.add_argument("--threads", type=int, help="CPU threads for torch and OpenCV alike; default: their own")
    parser.add_argument("--frame", default="1280x720", help="frame width x height")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    devices = [torch.device("cpu")] if args.device != "cuda" else []
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        devices.append(torch.device("cuda"))

    rng = np.random.default_rng(0)
    width, height = (int(v) for v in args.frame.split("x"))
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    rows = []
    for device in devices:
        for count in WINDOW_COUNTS:
            windows = np.stack(
                [
                    rng.uniform(0, width, count),
                    rng.uniform(0, height, count),
                    rng.integers(150, 700, count).astype(np.float64),
                ],
                axis=1,
            )
            held = torch.from_numpy(frame).to(device).permute(2, 0, 1)  # the frame as a tracker holds it
            contenders = {
                "cv2": lambda: cv2_crops(frame, windows, device),
                "opencv": lambda: opencv_crops(held, windows, device),
                "torch": lambda: torch_crops(frame, windows, device),
            }
            expected = contenders["cv2"]()
            if not torch.equal(contenders["opencv"](), expected):
                raise AssertionError(f"the opencv backend's crops differ from cv2's on {device} for K={count}")
            if (contenders["torch"]().int() - expected.int()).abs().max() > 1:
                raise AssertionError(
                    f"the torch kernel's crops differ by more than 1 from cv2's on {device}, K={count}"
                )
            runs: dict[str, list[float]] = {name: [] for name in contenders}
            for _ in range(args.repeats):
                for name, run in contenders.items():
                    runs[name].append(timed(run, device))
            medians = {name: statistics.median(values) for name, values in runs.items()}
            rows.append(
                {
                    "device": str(device),
                    "windows": count,
                    "cv2_ms": medians["cv2"],
                    "opencv_ms": medians["opencv"],
                    "torch_ms": medians["torch"],
                    "torch_over_cv2": medians["torch"] / medians["cv2"],
                    "runs_ms": runs,
                }
            )

    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    print(f"machine: {describe_machine()}; GPU: {gpu}")
    print(f"software: {describe_software()}")
    print(
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), OpenCV {cv2.__version__} "
        f"({cv2.getNumThreads()} threads); frame {width}x{height}, crops {SEARCH_SIZE} px, "
        f"median of {args.repeats} runs"
    )
    print(f"{'device':7s} {'K':>3s} {'cv2 ms':>9s} {'opencv ms':>9s} {'torch ms':>9s} {'torch/cv2':>9s}")
    for row in rows:
        print(
            f"{row['device']:7s} {row['windows']:3d} {row['cv2_ms']:9.2f} {row['opencv_ms']:9.2f} "
            f"{row['torch_ms']:9.2f} {row['torch_over_cv2']:9.2f}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                **describe_run(),
                "gpu": gpu,
                "torch": torch.__version__,
                "torch_threads": torch.get_num_threads(),
                "opencv": cv2.__version__,
                "frame": [width, height],
                "crop": SEARCH_SIZE,
                "repeats": args.repeats,
                "rows": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
