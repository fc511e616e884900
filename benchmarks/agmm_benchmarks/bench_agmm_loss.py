"""Time and memory of one forward+backward of the AGMM terms, against a plain vectorisation.

Run from the repository root:

    python benchmarks/bench_agmm_loss.py                  # all shapes, both impls
    python benchmarks/bench_agmm_loss.py --threads 1,2 --repeats 3 --shapes voc

Every (shape, implementation) pair runs in a fresh subprocess, so that the process peak RSS
of one does not mask another's. The subprocess builds seeded sparse inputs, runs one warm-up
step, then ``--repeats`` timed steps; the table gives the median time and the process peak RSS
(inputs, gradients and the Python/torch runtime included). The losses of both implementations
on the same inputs are compared at the end.

``vectorised`` is the straightforward vectorisation of docs/method.md with plain autograd (no
custom backward): prototypes by sampling the low-res features at the annotated pixels, one
batched ``torch.cdist`` over all K classes, and the full-resolution terms as whole-batch tensor
expressions. ``agmm`` is ``agmm_d2.modeling.agmm_loss.agmm_loss``.
"""
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from agmm_benchmarks.vectorised_agmm_loss import vectorised_agmm_loss
from agmm_d2.cli.options import add_worker_argument, tool_parser

# The script of this benchmark: each measurement is a fresh process of it (--worker).
SCRIPT = Path(__file__).resolve().parents[1] / "bench_agmm_loss.py"

IGNORE = 255

# name: (B, K, C, crop, h, description of the labels)
SHAPES = {
    "voc": (16, 21, 256, 321, 81, "scribbles, 2-4 classes per crop"),
    "cityscapes": (4, 19, 256, 721, 181, "100 clicks per image"),
    "voc_all_classes": (16, 21, 256, 321, 81, "scribbles, all 21 classes in every crop"),
}
IMPLS = ("agmm", "vectorised")


def make_inputs(B, K, C, crop, h, all_classes=False, clicks=0, seed=0):
    """Seeded features, logits, sparse targets, valid mask and image labels of one batch."""
    g = torch.Generator().manual_seed(seed)
    features = torch.randn(B, C, h, h, generator=g)
    logits = torch.randn(B, K, crop, crop, generator=g).mul_(2)
    targets = torch.full((B, crop, crop), IGNORE, dtype=torch.long)
    valid = torch.zeros(B, crop, crop, dtype=torch.bool)
    class_presence = torch.zeros(B, K)

    def randint(lo, hi):
        return int(torch.randint(lo, hi, (1,), generator=g))

    for b in range(B):
        # Half the crops come from images smaller than the crop: padding on the bottom/right.
        vh, vw = crop, crop
        if b % 2:
            vh, vw = randint(crop * 2 // 3, crop), randint(crop * 2 // 3, crop)
        valid[b, :vh, :vw] = True
        if clicks:
            # Clicks sampled from a dense label: a few large regions, one class each.
            n_cls = randint(8, 13)
            classes = torch.randperm(K, generator=g)[:n_cls]
            ys = torch.randint(0, vh, (clicks,), generator=g)
            xs = torch.randint(0, vw, (clicks,), generator=g)
            region = (ys * 3 // vh) * 4 + xs * 4 // vw
            targets[b, ys, xs] = classes[region % n_cls]
        else:
            n_cls = K if all_classes else randint(2, 5)
            classes = torch.randperm(K, generator=g)[:n_cls]
            for k in classes.tolist():
                for _ in range(randint(1, 4)):
                    # A 3-pixel-wide straight scribble of 40-160 pixels.
                    y0, x0 = randint(0, vh - 3), randint(0, max(vw - 160, 1))
                    length = randint(40, 160)
                    targets[b, y0:y0 + 3, x0:x0 + length] = k
        targets[b][~valid[b]] = IGNORE
        class_presence[b, classes] = 1
    return features, logits, targets, valid, class_presence


def worker(shape, impl, repeats, threads):
    """Run one configuration in this process; print a JSON line with times, RSS and losses."""
    # Imported whatever the implementation, so that both processes hold the same libraries.
    from agmm_d2.modeling.agmm_loss import agmm_loss

    torch.set_num_threads(threads)
    B, K, C, crop, h, _ = SHAPES[shape]
    inputs = make_inputs(B, K, C, crop, h, all_classes=shape == "voc_all_classes",
                         clicks=100 if shape == "cityscapes" else 0)
    features, logits = inputs[0].requires_grad_(), inputs[1].requires_grad_()
    rss_inputs = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loss_fn = agmm_loss if impl == "agmm" else vectorised_agmm_loss
    times, fwd_times = [], []
    for step in range(repeats + 1):
        features.grad = logits.grad = None
        t0 = time.perf_counter()
        losses = loss_fn(*inputs)
        t1 = time.perf_counter()
        sum(losses.values()).backward()
        t2 = time.perf_counter()
        if step:  # the first step is a warm-up
            times.append(t2 - t0)
            fwd_times.append(t1 - t0)
    print(json.dumps({
        "time": statistics.median(times), "fwd": statistics.median(fwd_times),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
        "inputs_rss_gb": rss_inputs * 1024 / 1e9,
        "losses": {k: float(v.detach()) for k, v in losses.items()},
    }))


def main(argv=None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument("--shapes", default="voc,cityscapes,voc_all_classes")
    parser.add_argument("--impls", default=",".join(IMPLS))
    parser.add_argument("--repeats", type=int, default=5, help="timed steps after one warm-up")
    parser.add_argument("--threads", default=str(torch.get_num_threads()),
                        help="torch threads; a comma-separated list runs each setting")
    add_worker_argument(parser, "SHAPE", "IMPL")
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker, args.repeats, int(args.threads))
        return 0

    shapes, impls = args.shapes.split(","), args.impls.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs "
          f"({platform.processor() or platform.machine()}), load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"forward+backward of the four AGMM terms; median of {args.repeats} steps "
          "after a warm-up; each row a fresh process")
    rows = {}
    for shape in shapes:
        for n_threads in threads:
            for impl in impls:
                cmd = [
                    sys.executable,
                    str(SCRIPT),
                    "--worker",
                    shape,
                    impl,
                    "--repeats",
                    str(args.repeats),
                    "--threads",
                    str(n_threads),
                ]
                run = subprocess.run(cmd, check=True, capture_output=True, text=True)
                rows[shape, n_threads, impl] = json.loads(run.stdout.strip().splitlines()[-1])
    header = (f"| {'shape':<36} | {'threads':>7} | {'implementation':<14} | {'fwd+bwd (s)':>11} "
              f"| {'fwd (s)':>7} | {'peak RSS (GB)':>13} | {'speed-up':>8} |")
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for (shape, n_threads, impl), r in rows.items():
        B, K, C, crop, h, labels = SHAPES[shape]
        name = f"{shape} B={B} K={K} {crop}px h={h}"
        base = rows.get((shape, n_threads, "vectorised"))
        speedup = f"{base['time'] / r['time']:.1f}x" if base else "-"
        print(f"| {name:<36} | {n_threads:>7} | {impl:<14} | {r['time']:>11.2f} "
              f"| {r['fwd']:>7.2f} | {r['peak_rss_gb']:>13.2f} | {speedup:>8} |")
    for shape in shapes:
        labels = SHAPES[shape][-1]
        inputs_gb = max(r["inputs_rss_gb"] for key, r in rows.items() if key[0] == shape)
        print(f"{shape}: {labels}; peak RSS of torch, agmm_d2 and the inputs alone: "
              f"{inputs_gb:.2f} GB")
        if all((shape, threads[0], i) in rows for i in IMPLS):
            a, b = (rows[shape, threads[0], i]["losses"] for i in IMPLS)
            worst = max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-12) for k in a)
            print(f"{shape}: largest relative difference of the losses between implementations: "
                  f"{worst:.1e}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
