"""Many trainings compared by their final mIoU: each a ``tools/train_net.py`` subprocess, a few at
once, resumably.

What the benchmarks use (benchmarks/sparse_vs_full.py, ablate_agmm.py, real_photos.py), and what
measures settings on your own data. Each run writes ``<output>/<run name>/`` (train_net's
OUTPUT_DIR) and its log ``<output>/<run name>.log``; a run whose metrics.json already holds a
final mIoU is not run again, so an interrupted sweep continues where it stopped.
"""
import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple


def final_miou(run_dir: Path) -> Optional[float]:
    """The last sem_seg/mIoU that train_net wrote to ``run_dir/metrics.json``, or None."""
    metrics = Path(run_dir) / "metrics.json"
    if not metrics.is_file():
        return None
    values = [json.loads(line).get("sem_seg/mIoU") for line in metrics.read_text().splitlines()
              if line.strip()]
    values = [v for v in values if v is not None]
    return values[-1] if values else None


def run_interval(run_dir: Path) -> Optional[Tuple[datetime, datetime]]:
    """(start, end) of a finished run: the first and last timestamps of its log.txt (their
    year is not logged; intervals within a year are right)."""
    log = Path(run_dir) / "log.txt"
    if not log.is_file():
        return None
    stamps = re.findall(r"^\[(\d\d/\d\d \d\d:\d\d:\d\d)\]", log.read_text(), re.M)
    if not stamps:
        return None
    return tuple(datetime.strptime(t, "%m/%d %H:%M:%S") for t in (stamps[0], stamps[-1]))


def run_seconds(run_dir: Path) -> Optional[float]:
    """Wall time of a finished run, from ``run_interval``."""
    interval = run_interval(run_dir)
    return None if interval is None else (interval[1] - interval[0]).total_seconds()


def time_summary(run_dirs: Sequence[Path]) -> str:
    """The runs' total run time and the wall time from the first start to the last end."""
    intervals = [i for i in map(run_interval, run_dirs) if i is not None]
    if not intervals:
        return "no run time on record"
    total = sum((end - start).total_seconds() for start, end in intervals) / 60
    span = (max(e for _, e in intervals) - min(s for s, _ in intervals)).total_seconds() / 60
    return (f"{len(intervals)} runs, {total:.0f} min of run time in all, {span:.0f} min of wall "
            "time from the first start to the last end")


def train_in_subprocess(
    run_dir: Path,
    command: Sequence[str],
    config: str,
    overrides: Sequence[str],
    threads: int = 1,
    cwd: Optional[Path] = None,
) -> float:
    """Train and evaluate one run; its mIoU.

    Args:
        command: how to start tools/train_net.py, e.g. ``[sys.executable, "tools/train_net.py"]``
            (and ``--register FILE`` for datasets registered by your own code).
        config, overrides: its ``--config-file`` and ``KEY VALUE`` overrides.
        threads: torch threads of the run.
        cwd: the folder it runs in (relative config paths are read from there).
    """
    # --overwrite: a run interrupted earlier starts again from scratch (a finished one is kept
    # by run_all and never trained again).
    cmd = [*command, "--config-file", config, "--overwrite", *overrides, "OUTPUT_DIR",
           str(run_dir)]
    log = run_dir.parent / f"{run_dir.name}.log"
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(log, "w") as f:
        status = subprocess.run(cmd, cwd=cwd, env=env, stdout=f,
                                stderr=subprocess.STDOUT).returncode
    miou = final_miou(run_dir)
    if status != 0 or miou is None:
        raise RuntimeError(f"run {run_dir.name} failed (exit {status}); see {log}")
    return miou


# One run: (run name, label printed in the log, config file, overrides).
Run = Tuple[str, str, str, List[str]]


def run_all(runs: Sequence[Run], output: Path, command: Sequence[str], *,
            cwd: Optional[Path] = None, jobs: int = 2, threads: int = 1,
            train_fn: Callable = train_in_subprocess) -> List[float]:
    """mIoU of every run, in order; ``jobs`` at once, each with ``threads`` torch threads;
    ``command`` and ``cwd`` as in ``train_in_subprocess``.

    On a 2-core CPU two single-threaded runs finish sooner than one two-threaded run after the
    other: the model's many small ops keep two threads waiting on each other.
    """
    output = Path(output)

    def one(run: Run) -> float:
        name, label, config, overrides = run
        miou = final_miou(output / name)
        if miou is not None:
            print(f"{label}: mIoU {miou:.1f} (kept from an earlier run)", flush=True)
            return miou
        t0 = time.perf_counter()
        miou = train_fn(output / name, command, config, overrides, threads, cwd)
        print(f"{label}: mIoU {miou:.1f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        return miou

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, runs))
