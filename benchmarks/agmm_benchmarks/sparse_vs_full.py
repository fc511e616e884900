"""Sparse vs full supervision on the synthetic dataset: does AGMM beat partial cross-entropy,
and how close does it get to dense labels?

    python benchmarks/sparse_vs_full.py                      # 5 settings x 3 seeds, CPU
    python benchmarks/sparse_vs_full.py --seeds 0 --max-iter 100 --output /tmp/quick

Each run is ``tools/train_net.py`` with the points config (same schedule for every setting),
in its own process; ``--jobs`` runs go at once, each with ``--threads`` torch threads (on this
2-core machine two single-threaded runs finish sooner than one two-threaded run after the
other: the model's many small ops keep two threads waiting on each other). mIoU is read from
the final evaluation that
train_net writes to ``<run>/metrics.json``. A run whose metrics already exist is not run again,
so an interrupted benchmark continues where it stopped. Prints a Markdown table and writes it,
with the raw numbers as JSON, to ``--output``.
"""
import json
import sys
import time
from pathlib import Path

from agmm_benchmarks.runs import run_all
from agmm_benchmarks.tables import mean_std, per_seed
from agmm_d2.cli.options import (
    add_config_arguments,
    add_output_argument,
    overrides_of,
    tool_parser,
)
from agmm_d2.utils.atomic import atomic_write

REPO = Path(__file__).resolve().parents[2]
TRAIN_NET = [sys.executable, str(REPO / "tools" / "train_net.py")]

# (name, training set, AGMM on)
SETTINGS = [
    ("dense labels, cross-entropy", "synthetic_train_dense", False),
    ("points, partial CE", "synthetic_train_points", False),
    ("points, AGMM", "synthetic_train_points", True),
    ("scribbles, partial CE", "synthetic_train_scribbles", False),
    ("scribbles, AGMM", "synthetic_train_scribbles", True),
]


def summarize(results: dict, seeds) -> str:
    """Markdown table: mean and spread per setting, fraction of dense, AGMM gain."""
    def stats(name):
        return mean_std(results[name])

    dense_mean, _ = stats(SETTINGS[0][0])
    lines = [
        f"| setting | mIoU, mean ± std over seeds {list(seeds)} | per seed | of dense "
        "| AGMM gain |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, _, agmm in SETTINGS:
        mean, std = stats(name)
        gain = ""
        if agmm:
            base_mean, _ = stats(name.replace("AGMM", "partial CE"))
            gain = f"{mean - base_mean:+.1f} ({(mean - base_mean) / dense_mean:+.1%} of dense)"
        lines.append(
            f"| {name} | {mean:.1f} ± {std:.1f} | {per_seed(results[name])} "
            f"| {mean / dense_mean:.1%} | {gain} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, default=None, help="override SOLVER.MAX_ITER")
    add_output_argument(parser, "runs and results", default="output/sparse_vs_full")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    add_config_arguments(parser, flag="--config", default="configs/synthetic/points_released.yaml",
                         help="the config of every run (its DATASETS.TRAIN and "
                              "MODEL.AGMM.ENABLED are set per setting)")
    args = parser.parse_args(argv)
    out = Path(args.output)
    start = time.perf_counter()
    settings = [(name, dataset, agmm, seed) for name, dataset, agmm in SETTINGS
                for seed in args.seeds]
    runs = []
    for name, dataset, agmm, seed in settings:
        overrides = overrides_of(args) + ["DATASETS.TRAIN", f"('{dataset}',)",
                                          "MODEL.AGMM.ENABLED", str(agmm), "SEED", str(seed)]
        if args.max_iter:
            overrides += ["SOLVER.MAX_ITER", str(args.max_iter)]
        runs.append((f"{dataset}_{'agmm' if agmm else 'ce'}_seed{seed}", f"{name}, seed {seed}",
                     args.config, overrides))
    mious = run_all(runs, out, TRAIN_NET, cwd=REPO, jobs=args.jobs, threads=args.threads)
    results = {name: [] for name, _, _ in SETTINGS}
    for (name, *_), miou in zip(settings, mious):
        results[name].append(miou)
    minutes = (time.perf_counter() - start) / 60
    table = summarize(results, args.seeds)
    footer = (f"\n\nconfig {args.config}"
              + (f", SOLVER.MAX_ITER {args.max_iter}" if args.max_iter else "")
              + f"; {args.jobs} runs at once, {args.threads} thread(s) each"
              + f"; wall time of this invocation {minutes:.1f} min")
    print("\n" + table + footer)
    with atomic_write(out / "table.md") as tmp:
        tmp.write_text(table + footer + "\n")
    with atomic_write(out / "results.json") as tmp:
        tmp.write_text(json.dumps({"config": args.config, "max_iter": args.max_iter,
                                   "seeds": args.seeds, "minutes": minutes, "miou": results},
                                  indent=1))

