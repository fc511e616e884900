"""What AGMM costs per training step: the same model with MODEL.AGMM.ENABLED off and on.

    python benchmarks/step_cost.py                       # demo and VOC shapes, on the CPU
    python benchmarks/step_cost.py --shapes voc --voc-batch 16 --device cuda
    python benchmarks/step_cost.py --shapes idd --term pairwise --threads 1 --alternate
    python benchmarks/step_cost.py --shapes idd \
        --idd-config configs/idd_lite/points_robust_balanced.yaml --threads 1 --alternate

``--term`` chooses what "on" adds to partial cross-entropy ("off"): the AGMM terms of the
shape's config (default), the pairwise term (MODEL.PAIRWISE.WEIGHT 0.1), or both. "off" is
always plain partial cross-entropy (MODEL.AGMM.CE_CLASS_BALANCE none), whatever the config sets.

A training step is forward, backward and SGD update of the model built from the config, on a
fixed random batch (images of noise; each label a Voronoi map of 4 classes drawn from K, of
which 3 % of the pixels are annotated, as scribbles are). Each (shape, AGMM) configuration runs
in its own process, so that its peak memory is its own: peak RSS on the CPU,
torch.cuda.max_memory_allocated on a GPU. Times are medians over --steps steps after --warmup.
"""
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from agmm_d2.cli.options import add_worker_argument, tool_parser

REPO = Path(__file__).resolve().parents[2]

# name -> (config, extra overrides); the VOC batch is set by --voc-batch.
SHAPES = {
    "demo": ("configs/synthetic/points_released.yaml", []),
    "voc": ("configs/voc/points_released.yaml", ["MODEL.WEIGHTS", ""]),
    "idd": ("configs/idd_lite/scribbles_robust.yaml", []),
}
# --term -> (AGMM terms on, pairwise term on) in the "on" configuration.
TERMS = {"agmm": (True, False), "pairwise": (False, True), "agmm+pairwise": (True, True)}


def make_batch(batch: int, size: int, num_classes: int, seed: int = 0):
    """Training inputs as SparseSemSegDatasetMapper makes them, from a fixed seed."""
    import torch

    g = torch.Generator().manual_seed(seed)
    inputs = []
    for _ in range(batch):
        classes = torch.randperm(num_classes, generator=g)[:4]
        centers = torch.randint(0, size, (4, 2), generator=g).float()
        yy, xx = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(),
                                indexing="ij")
        dist = ((yy[None] - centers[:, 0, None, None]) ** 2
                + (xx[None] - centers[:, 1, None, None]) ** 2)
        dense = classes[dist.argmin(0)]
        annotated = torch.rand(size, size, generator=g) < 0.03
        sparse = torch.where(annotated, dense, torch.full_like(dense, 255))
        labels = torch.zeros(num_classes)
        labels[dense.unique()] = 1
        inputs.append({
            "image": torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8),
            "sparse_seg": sparse.long(), "valid": torch.ones(size, size, dtype=torch.bool),
            "sparse_classes": labels, "image_classes": labels,
        })
    return inputs


def build(shape: str, agmm: bool, args):
    """(model, optimizer, inputs, batch, crop) of one configuration: "off" (partial CE) or "on"."""
    import torch
    from detectron2.config import get_cfg
    from detectron2.modeling import build_model

    from agmm_d2 import add_agmm_config

    torch.set_num_threads(args.threads)
    config, overrides = SHAPES[shape]
    if shape == "idd" and args.idd_config:
        config = args.idd_config
    cfg = get_cfg()
    add_agmm_config(cfg)
    cfg.merge_from_file(str(REPO / config))
    use_agmm, use_pairwise = TERMS[args.term] if agmm else (False, False)
    if not agmm:
        overrides = overrides + ["MODEL.AGMM.CE_CLASS_BALANCE", "none"]
    cfg.merge_from_list(overrides + ["MODEL.AGMM.ENABLED", str(use_agmm), "MODEL.DEVICE",
                                     args.device, "MODEL.PAIRWISE.WEIGHT", 0.1 * use_pairwise])
    if args.device == "cpu":
        cfg.merge_from_list(["MODEL.RESNETS.NORM", "BN", "MODEL.SEM_SEG_HEAD.NORM", "BN"])
    batch = args.voc_batch if shape == "voc" else cfg.SOLVER.IMS_PER_BATCH
    size = cfg.INPUT.CROP.SIZE[0]
    torch.manual_seed(0)
    model = build_model(cfg).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    inputs = make_batch(batch, size, cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES)
    return model, optimizer, inputs, batch, size


def timed_step(model, optimizer, inputs, device: str):
    """Seconds of one forward, backward and update; and the loss names."""
    import torch

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    start = time.perf_counter()
    losses = model(inputs)
    optimizer.zero_grad()
    sum(losses.values()).backward()
    optimizer.step()
    sync()
    return time.perf_counter() - start, sorted(losses)


def worker(shape: str, agmm: bool, args) -> dict:
    """Time training steps of one configuration in this process."""
    import torch

    model, optimizer, inputs, batch, size = build(shape, agmm, args)
    times = []
    for step in range(args.warmup + args.steps):
        seconds, losses = timed_step(model, optimizer, inputs, args.device)
        if step >= args.warmup:
            times.append(seconds)
    if args.device.startswith("cuda"):
        peak_gb = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"shape": shape, "agmm": agmm, "batch": batch, "crop": size,
            "median_s": statistics.median(times), "peak_gb": peak_gb,
            "losses": sorted(losses)}


def alternate(shape: str, args) -> str:
    """Both configurations in this process, their steps taken in turn, so that a load that
    changes over time (a shared CPU) slows both alike: a Markdown row with the median of each
    and the median of the per-pair ratios."""
    built = {on: build(shape, on, args) for on in (False, True)}
    times = {False: [], True: []}
    for step in range(args.warmup + args.steps):
        for on, (model, optimizer, inputs, *_) in built.items():
            seconds, _ = timed_step(model, optimizer, inputs, args.device)
            if step >= args.warmup:
                times[on].append(seconds)
    ratio = statistics.median(b / a for a, b in zip(times[False], times[True]))
    _, _, _, batch, size = built[False]
    return (f"| {shape} | {batch} x {size}² | {statistics.median(times[False]):.3f} | "
            f"{statistics.median(times[True]):.3f} | {ratio:.2f}x ({ratio - 1:+.0%}) | - | - |")


def main(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--voc-batch", type=int, default=2,
                        help="images per step at the VOC shape (released: 16 per GPU)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--term", default="agmm", choices=list(TERMS),
                        help="what the 'on' step adds to partial cross-entropy")
    parser.add_argument("--idd-config", default=None,
                        help="config of the idd shape (default configs/idd_lite/"
                             "scribbles_robust.yaml)")
    parser.add_argument("--alternate", action="store_true",
                        help="both configurations in one process, steps in turn (a shared CPU); "
                             "the ratio is the median of the per-pair ratios, no peak memory")
    add_worker_argument(parser, "SHAPE", "AGMM")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1] == "on", args)))
        return 0
    device = args.device
    if device.startswith("cuda"):
        import torch

        device = f"{device} ({torch.cuda.get_device_name()})"
    rows = []
    for shape in args.shapes if not args.alternate else []:
        results = {}
        for agmm in ("off", "on"):
            cmd = [sys.executable, str(REPO / "benchmarks" / "step_cost.py"), "--worker", shape,
                   agmm] + [a for a in (argv if argv is not None else sys.argv[1:])]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            results[agmm] = json.loads(out.strip().splitlines()[-1])
        off, on = results["off"], results["on"]
        rows.append(f"| {shape} | {off['batch']} x {off['crop']}² | {off['median_s']:.3f} | "
                    f"{on['median_s']:.3f} | {on['median_s'] / off['median_s']:.2f}x "
                    f"({on['median_s'] / off['median_s'] - 1:+.0%}) | {off['peak_gb']:.2f} | "
                    f"{on['peak_gb']:.2f} |")
    if args.alternate:
        rows = [alternate(shape, args) for shape in args.shapes]
    print(f"training step on {device}, {args.threads} threads, median of {args.steps} steps "
          f"after {args.warmup} warm-up; on = partial CE + {args.term}")
    print("| shape | batch x crop | off, s | on, s | on / off | peak GB off | peak GB on |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
