#!/usr/bin/env python
"""Sparse vs full supervision on the synthetic dataset: does AGMM beat partial cross-entropy,
and how close does it get to dense labels?

    python benchmarks/sparse_vs_full.py                      # 5 settings x 3 seeds, CPU
    python benchmarks/sparse_vs_full.py --seeds 0 --max-iter 100 --output /tmp/quick

Each run is ``tools/train_net.py`` with the demo config (same schedule for every setting),
in its own process; ``--jobs`` runs go at once, each with ``--threads`` torch threads (on this
2-core machine two single-threaded runs finish sooner than one two-threaded run after the
other: the model's many small ops keep two threads waiting on each other). mIoU is read from the final evaluation that
train_net writes to ``<run>/metrics.json``. A run whose metrics already exist is not run again,
so an interrupted benchmark continues where it stopped. Prints a Markdown table and writes it,
with the raw numbers as JSON, to ``--output``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# (name, training set, AGMM on)
SETTINGS = [
    ("dense labels, cross-entropy", "synthetic_full_train", False),
    ("points, partial CE", "synthetic_point_train", False),
    ("points, AGMM", "synthetic_point_train", True),
    ("scribbles, partial CE", "synthetic_scribble_train", False),
    ("scribbles, AGMM", "synthetic_scribble_train", True),
]


def final_miou(run_dir: Path):
    """The last sem_seg/mIoU that train_net wrote to metrics.json, or None."""
    metrics = run_dir / "metrics.json"
    if not metrics.is_file():
        return None
    values = [json.loads(line).get("sem_seg/mIoU") for line in metrics.read_text().splitlines()
              if line.strip()]
    values = [v for v in values if v is not None]
    return values[-1] if values else None


def train(run_dir: Path, dataset: str, agmm: bool, seed: int, args) -> float:
    """Train and evaluate one setting and seed in a subprocess; return its mIoU."""
    cmd = [sys.executable, str(REPO / "tools" / "train_net.py"), "--config-file", args.config,
           "DATASETS.TRAIN", f"('{dataset}',)", "MODEL.AGMM.ENABLED", str(agmm),
           "SEED", str(seed), "OUTPUT_DIR", str(run_dir)]
    if args.max_iter:
        cmd += ["SOLVER.MAX_ITER", str(args.max_iter)]
    log = run_dir.parent / f"{run_dir.name}.log"
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    with open(log, "w") as f:
        status = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    miou = final_miou(run_dir)
    if status != 0 or miou is None:
        raise RuntimeError(f"run {run_dir.name} failed (exit {status}); see {log}")
    return miou


def summarize(results: dict, seeds) -> str:
    """Markdown table: mean and spread per setting, fraction of dense, AGMM gain."""
    def stats(name):
        values = results[name]
        return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)

    dense_mean, _ = stats(SETTINGS[0][0])
    lines = [f"| setting | mIoU, mean ± std over seeds {list(seeds)} | per seed | of dense | AGMM gain |",
             "| --- | --- | --- | --- | --- |"]
    for name, _, agmm in SETTINGS:
        mean, std = stats(name)
        gain = ""
        if agmm:
            base_mean, _ = stats(name.replace("AGMM", "partial CE"))
            gain = f"{mean - base_mean:+.1f} ({(mean - base_mean) / dense_mean:+.1%} of dense)"
        per_seed = ", ".join(f"{v:.1f}" for v in results[name])
        lines.append(f"| {name} | {mean:.1f} ± {std:.1f} | {per_seed} | {mean / dense_mean:.1%} | {gain} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/synthetic_demo.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, default=None, help="override SOLVER.MAX_ITER")
    parser.add_argument("--output", default="output/sparse_vs_full")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    args = parser.parse_args(argv)
    out = Path(args.output)
    start = time.perf_counter()
    runs = [(name, dataset, agmm, seed) for name, dataset, agmm in SETTINGS for seed in args.seeds]

    def one(run):
        name, dataset, agmm, seed = run
        run_dir = out / f"{dataset}_{'agmm' if agmm else 'ce'}_seed{seed}"
        miou = final_miou(run_dir)
        if miou is not None:
            print(f"{name}, seed {seed}: mIoU {miou:.1f} (kept from an earlier run)", flush=True)
            return miou
        t0 = time.perf_counter()
        miou = train(run_dir, dataset, agmm, seed, args)
        print(f"{name}, seed {seed}: mIoU {miou:.1f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        return miou

    with ThreadPoolExecutor(args.jobs) as pool:
        mious = list(pool.map(one, runs))
    results = {name: [] for name, _, _ in SETTINGS}
    for (name, *_), miou in zip(runs, mious):
        results[name].append(miou)
    minutes = (time.perf_counter() - start) / 60
    table = summarize(results, args.seeds)
    footer = (f"\n\nconfig {args.config}"
              + (f", SOLVER.MAX_ITER {args.max_iter}" if args.max_iter else "")
              + f"; {args.jobs} runs at once, {args.threads} thread(s) each"
              + f"; wall time of this invocation {minutes:.1f} min")
    print("\n" + table + footer)
    (out / "table.md").write_text(table + footer + "\n")
    (out / "results.json").write_text(json.dumps(
        {"config": args.config, "max_iter": args.max_iter, "seeds": args.seeds,
         "minutes": minutes, "miou": results}, indent=1))


if __name__ == "__main__":
    main()
