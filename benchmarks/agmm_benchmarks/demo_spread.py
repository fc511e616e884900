"""How much the demo's mIoU moves with the seed and the thread count, and how long a run takes.

    python benchmarks/demo_spread.py                   # seeds 0 1 2 x threads 1 2, one by one
    python benchmarks/demo_spread.py --seeds 0 1 --threads 1 --output output/spread_quick
    python benchmarks/demo_spread.py --jobs 2          # two runs at once (slower each)
    python benchmarks/demo_spread.py --threads 1 -- SOLVER.MAX_ITER 400 SOLVER.BASE_LR 0.001

Trains configs/synthetic/demo.yaml (what `make demo` runs) once per seed and thread count, then
prints every run's mIoU and wall time and the minimum, maximum, spread and median of the mIoU
(also written to OUTPUT/spread.md). KEY VALUE pairs override the config of every run; after
--seeds or --threads, put them behind "--" (those options take several numbers). Each run is
``tools/train_net.py`` (``SEED`` and ``OMP_NUM_THREADS`` set per run) in its own folder under
the output. docs/demo.md quotes what it prints.
"""
import itertools
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from agmm_d2.cli.options import (
    add_config_arguments,
    add_output_argument,
    exit_status_of,
    overrides_of,
    tool_parser,
)
from agmm_d2.utils.atomic import atomic_write
from agmm_d2.utils.errors import InputError

from .runs import train_in_subprocess

__all__ = ["DemoRun", "main", "measure_demo_spread", "spread_table"]

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = "configs/synthetic/demo.yaml"


@dataclass(frozen=True)
class DemoRun:
    """One finished training run: its seed, torch threads, final mIoU and wall time."""
    seed: int
    threads: int
    miou: float
    seconds: float


def spread_table(runs: Sequence[DemoRun]) -> str:
    """Markdown: one row per run, then min / max / spread / median of the mIoU and the median
    wall time."""
    lines = ["| seed | threads | mIoU | wall time |", "| ---: | ---: | ---: | ---: |"]
    lines += [f"| {r.seed} | {r.threads} | {r.miou:.1f} | {r.seconds / 60:.1f} min |" for r in runs]
    mious = [r.miou for r in runs]
    minutes = statistics.median(r.seconds for r in runs) / 60
    lines.append(f"\nmIoU over {len(runs)} runs: min {min(mious):.1f}, max {max(mious):.1f}, "
                 f"spread {max(mious) - min(mious):.1f}, median {statistics.median(mious):.1f}; "
                 f"median wall time {minutes:.1f} min")
    return "\n".join(lines)


def _finished(output: Path, name: str) -> Optional[DemoRun]:
    """The record of a run that finished in an earlier invocation, or None."""
    record = output / f"{name}.json"
    return DemoRun(**json.loads(record.read_text())) if record.is_file() else None


def _check_free(output: Path, names: Sequence[str]) -> None:
    """A run folder without its record (an interrupted or foreign run) would mix an unknown run
    into the table: refuse it."""
    taken = [n for n in names if (output / n).exists() and _finished(output, n) is None]
    if taken:
        raise InputError(f"--output {output} holds {taken[0]}/ without its record "
                         f"{taken[0]}.json (an interrupted run?): remove it or choose another "
                         "folder")


def measure_demo_spread(seeds: Sequence[int], threads: Sequence[int], output, *,
                        config: str = DEMO_CONFIG, overrides: Sequence[str] = (), jobs: int = 1,
                        command: Optional[Sequence[str]] = None,
                        train_fn: Callable = train_in_subprocess) -> List[DemoRun]:
    """Train ``config`` once per (seed, thread count), ``jobs`` runs at once; the runs in order.

    Args:
        seeds, threads: every combination is run, thread count by thread count (the
            single-threaded runs first when ``threads`` starts with 1).
        output: run ``seed<S>_threads<T>`` trains into ``output/seed<S>_threads<T>/``; its log is
            ``output/seed<S>_threads<T>.log`` and its result ``output/seed<S>_threads<T>.json``.
            A run with a result is kept (an interrupted measurement continues where it
            stopped; keeping it apart from other configs is the caller's part); a run folder
            without one is refused.
        config, overrides: ``--config-file`` (relative to the repository) and ``KEY VALUE``
            overrides of every run.
        jobs: runs at once. 1 measures each run's time alone; 2 on a 2-core CPU shares the
            cores, which slows every run.
        command: how to start train_net (default: this Python on the repository's script).
    """
    if jobs < 1:
        raise InputError(f"--jobs {jobs}: expected 1 or more")
    output = Path(output)
    combos = [(s, t) for t, s in itertools.product(threads, seeds)]
    names = [f"seed{s}_threads{t}" for s, t in combos]
    _check_free(output, names)
    command = list(command or [sys.executable, str(REPO / "tools" / "train_net.py")])

    def one(combo, name):
        seed, n_threads = combo
        kept = _finished(output, name)
        if kept is not None:
            print(f"seed {seed}, {n_threads} thread(s): mIoU {kept.miou:.1f} ({kept.seconds:.0f} s,"
                  " kept from an earlier invocation)", flush=True)
            return kept
        start = time.perf_counter()
        miou = train_fn(output / name, command, config, [*overrides, "SEED", str(seed)],
                        n_threads, REPO)
        run = DemoRun(seed, n_threads, miou, time.perf_counter() - start)
        with atomic_write(output / f"{name}.json") as tmp:
            tmp.write_text(json.dumps(asdict(run)) + "\n")
        print(f"seed {seed}, {n_threads} thread(s): mIoU {miou:.1f} ({run.seconds:.0f} s)",
              flush=True)
        return run

    with ThreadPoolExecutor(jobs) as pool:
        runs = list(pool.map(one, combos, names))
    with atomic_write(output / "spread.md") as tmp:
        tmp.write_text(spread_table(runs) + "\n")
    return runs


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="OMP_NUM_THREADS values, each run with every seed")
    parser.add_argument("--jobs", type=int, choices=[1, 2], default=1,
                        help="runs at once (default 1: each run's time is its own)")
    add_output_argument(parser, "folder of the runs; must not hold them already",
                        default="output/demo_spread")
    add_config_arguments(parser, default=DEMO_CONFIG, help="config file (default: the demo)")
    return parser


def run(args) -> int:
    runs = measure_demo_spread(args.seeds, args.threads, args.output, config=args.config_file,
                               overrides=overrides_of(args), jobs=args.jobs)
    print("\n" + spread_table(runs))
    return 0


def main(argv=None) -> int:
    return exit_status_of("demo_spread.py", run, argument_parser().parse_args(argv),
                          (InputError,))
