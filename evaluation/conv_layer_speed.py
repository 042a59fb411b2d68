"""Each convolution of a SiamFC++ search forward, timed with oneDNN (PyTorch's default CPU path, channels-last)
and with NNPACK (`videoanalyst.models.nnpack_convolution`), side by side: the measurement behind which layers the
fast tracker hands to NNPACK (square kernels of 5 or more at stride 1).

    python evaluation/conv_layer_speed.py [--exp siamfcpp_alexnet] [--threads 2] [--repeats 15]

The network is the tracker's fast one before the swap (batch norms folded, channels-last) with random weights
(speed does not depend on them), fed one 303-px search crop. Each layer gets its own recorded input shape; the two
paths alternate, and the table gives the median milliseconds. NNPACK's time includes the layout changes it needs
(channels-last in, NCHW for NNPACK, channels-last out), as in the tracker.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from machine import describe_machine, describe_run, describe_software
from torch import nn

from videoanalyst.experiments import load_experiment
from videoanalyst.models.fold_batch_norm import fold_batch_norms
from videoanalyst.models.nnpack_convolution import NNPACKConv2d, nnpack_ready


def search_layers(network: nn.Module) -> list[tuple[str, nn.Conv2d, torch.Size]]:
    """The convolutions one search forward runs, in order, with the input shape each one sees."""
    names = {module: name for name, module in network.named_modules()}
    seen: list[tuple[str, nn.Conv2d, torch.Size]] = []
    hooks = [
        module.register_forward_hook(lambda m, inputs, _: seen.append((names[m], m, inputs[0].shape)))
        for module in network.modules()
        if isinstance(module, nn.Conv2d)
    ]
    crop = torch.rand(1, 3, 127, 127).contiguous(memory_format=torch.channels_last) * 255
    kernels = network.template(crop)
    seen.clear()
    network.search(torch.rand(1, 3, 303, 303).contiguous(memory_format=torch.channels_last) * 255, kernels)
    for hook in hooks:
        hook.remove()
    return seen


def median_ms(run: Callable[[], object], repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exp", default="siamfcpp_alexnet")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    if not nnpack_ready():
        raise SystemExit("this torch build has no NNPACK: nothing to compare")
    torch.set_num_threads(args.threads)
    network = fold_batch_norms(load_experiment(args.exp).build_network()).to(memory_format=torch.channels_last)
    rows = []
    with torch.no_grad():
        for name, conv, shape in search_layers(network):
            x = torch.randn(shape).contiguous(memory_format=torch.channels_last)
            nnpack = NNPACKConv2d(
                conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
                conv.groups, conv.bias is not None,
            )
            nnpack.load_state_dict(conv.state_dict())
            onednn_ms = median_ms(lambda: conv(x), args.repeats)
            nnpack_ms = median_ms(lambda: nnpack(x), args.repeats)
            rows.append(
                {
                    "layer": name,
                    "input": list(shape),
                    "out_channels": conv.out_channels,
                    "kernel": list(conv.kernel_size),
                    "stride": list(conv.stride),
                    "onednn_ms": onednn_ms,
                    "nnpack_ms": nnpack_ms,
                }
            )
    print(f"{args.exp}, one 303-px search forward; {describe_machine()}, {args.threads} threads, "
          f"torch {torch.__version__}")
    print(describe_software())
    print(f"{'layer':32s} {'input':>18s} {'out':>4s} {'kernel':>7s} {'stride':>6s} {'oneDNN ms':>10s} "
          f"{'NNPACK ms':>10s}")
    for row in rows:
        kernel = "x".join(map(str, row["kernel"]))
        print(
            f"{row['layer']:32s} {'x'.join(map(str, row['input'][1:])):>18s} {row['out_channels']:4d} {kernel:>7s} "
            f"{row['stride'][0]:6d} {row['onednn_ms']:10.2f} {row['nnpack_ms']:10.2f}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {**describe_run(), "exp": args.exp, "threads": args.threads, "rows": rows}
        args.json.write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
