"""Ablation of the AGMM loss on the synthetic dataset: which term helps, which hurts, and which
option makes AGMM at least as good as partial cross-entropy.

    python benchmarks/ablate_agmm.py                       # every variant, 3 label types, 3 seeds
    python benchmarks/ablate_agmm.py --labels clicks --variants "partial CE" "AGMM, released" \\
        --seeds 0 --max-iter 100 --output /tmp/quick

Every run is ``tools/train_net.py`` from scratch with the label type's synthetic config
(``configs/synthetic/<labels>_released.yaml``: points, scribbles, 20 random clicks, 5 random
clicks), the same schedule (``--max-iter``) and the same seeds; a variant only adds its config
overrides. "robust preset" trains with the label type's ``<labels>_robust.yaml`` instead, its
warm-up scaled with the schedule (the preset's WARMUP_ITERS and RAMP_ITERS are fractions of its
own SOLVER.MAX_ITER). Runs are ordered seed
by seed, so a partial table already covers every variant. Resumable (see
benchmarks/agmm_benchmarks/runs.py).

Prints a Markdown table of mean ± standard deviation over seeds, with each variant's paired
difference to partial CE, and writes it with the raw numbers to ``--output``.
"""
import json
import sys
import time
from pathlib import Path

from agmm_benchmarks.runs import run_all, time_summary
from agmm_benchmarks.tables import mean_pm_std, paired_cell
from agmm_d2.cli.options import add_output_argument, tool_parser
from agmm_d2.utils.atomic import atomic_write

REPO = Path(__file__).resolve().parents[2]
TRAIN_NET = [sys.executable, str(REPO / "tools" / "train_net.py")]

# label type -> (config of the released behaviour, robust preset)
LABELS = {label: (f"configs/synthetic/{labels}_released.yaml",
                  f"configs/synthetic/{labels}_robust.yaml")
          for label, labels in (("points", "points"), ("scribbles", "scribbles"),
                                ("clicks", "20clicks"), ("5 clicks", "5clicks"))}
ROBUST = "robust preset"
# Warm-up of the "warm-up" variant, as fractions of the schedule (those of the robust presets).
WARMUP_FRACTION, RAMP_FRACTION = 0.3, 0.2


def variants(max_iter: int) -> dict:
    """Variant name -> config overrides (ROBUST: the preset file, handled by ``robust_run``)."""
    a = "MODEL.AGMM."
    return {
        "partial CE": [a + "ENABLED", "False"],
        "AGMM, released": [],
        "without absent term": [a + "ABSENT_WEIGHT", "0.0"],
        "without prototype term": [a + "PROTO_WEIGHT", "0.0"],
        "without GMM term": [a + "GMM_WEIGHT", "0.0"],
        "absent term from image labels": [a + "ABSENT_FROM", "image_classes"],
        "warm-up": [a + "WARMUP_ITERS", str(round(WARMUP_FRACTION * max_iter)),
                    a + "RAMP_ITERS", str(round(RAMP_FRACTION * max_iter))],
        "adaptive variance": [a + "VARIANCE", "adaptive"],
        "L2-normalised features": [a + "FEATURE_NORM", "rms"],
        "prototype mean": [a + "PROTO_REDUCTION", "mean"],
        ROBUST: None,
    }


def robust_overrides(preset: str, max_iter: int) -> list:
    """The preset's warm-up and ramp, scaled from its own schedule to ``max_iter``."""
    from detectron2.config import get_cfg

    from agmm_d2.config import add_agmm_config

    cfg = get_cfg()
    add_agmm_config(cfg)
    cfg.merge_from_file(str(REPO / preset))
    scale = max_iter / cfg.SOLVER.MAX_ITER
    return ["MODEL.AGMM.WARMUP_ITERS", str(round(cfg.MODEL.AGMM.WARMUP_ITERS * scale)),
            "MODEL.AGMM.RAMP_ITERS", str(round(cfg.MODEL.AGMM.RAMP_ITERS * scale))]


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def summarize(results: dict, labels, names, seeds) -> str:
    """Markdown: per variant and label type, mean ± std and the paired difference to partial CE."""
    head = (
        "| variant | " + " | ".join(f"{lab}: mIoU | {lab}: vs partial CE" for lab in labels) + " |"
    )
    lines = [head, "|" + " --- |" * (1 + 2 * len(labels))]
    for name in names:
        cells = []
        for label in labels:
            values = results[label][name]
            cells.append(mean_pm_std(values))
            cells.append("" if name == "partial CE" else
                         paired_cell(values, results[label]["partial CE"], " seeds better"))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plan_runs(labels, names, seeds, max_iter):
    """The runs (see agmm_benchmarks.runs.Run), seed by seed, and the (label, variant) of
    each."""
    table = variants(max_iter)
    runs, keys = [], []
    for seed in seeds:
        for label in labels:
            released, preset = LABELS[label]
            for name in names:
                if name == ROBUST:
                    config, overrides = preset, robust_overrides(preset, max_iter)
                else:
                    config, overrides = released, list(table[name])
                overrides += ["SOLVER.MAX_ITER", str(max_iter), "SEED", str(seed)]
                run_name = f"{slug(label)}_{slug(name)}_seed{seed}"
                runs.append((run_name, f"{label}, {name}, seed {seed}", config, overrides))
                keys.append((label, name))
    return runs, keys


def main(argv=None):
    parser = tool_parser(__doc__)
    all_variants = list(variants(1))
    parser.add_argument("--labels", nargs="+", choices=list(LABELS), default=list(LABELS))
    parser.add_argument("--variants", nargs="+", choices=all_variants, default=all_variants,
                        help="'partial CE' is always added: every row is compared with it")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, default=300, help="SOLVER.MAX_ITER of every run")
    add_output_argument(parser, "runs and results", default="output/ablate_agmm")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    args = parser.parse_args(argv)
    names = ["partial CE"] + [v for v in args.variants if v != "partial CE"]
    out = Path(args.output)

    runs, keys = plan_runs(args.labels, names, args.seeds, args.max_iter)
    start = time.perf_counter()
    mious = run_all(runs, out, TRAIN_NET, cwd=REPO, jobs=args.jobs, threads=args.threads)
    minutes = (time.perf_counter() - start) / 60

    results = {label: {name: [] for name in names} for label in args.labels}
    for (label, name), miou in zip(keys, mious):
        results[label][name].append(miou)
    text = summarize(results, args.labels, names, args.seeds)
    # Kept runs may come from earlier invocations: their time is read from their logs.
    footer = (f"\n\nseeds {args.seeds}, SOLVER.MAX_ITER {args.max_iter}; "
              f"{time_summary([out / name for name, *_ in runs])}; wall time of this "
              f"invocation {minutes:.1f} min")
    print("\n" + text + footer)
    with atomic_write(out / "table.md") as tmp:
        tmp.write_text(text + footer + "\n")
    with atomic_write(out / "results.json") as tmp:
        tmp.write_text(json.dumps({"max_iter": args.max_iter, "seeds": args.seeds,
                                   "minutes": minutes, "miou": results}, indent=1))

