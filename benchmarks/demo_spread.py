#!/usr/bin/env python
"""How much the demo's mIoU moves with the seed and the thread count, and how long a run takes.

    python benchmarks/demo_spread.py                   # seeds 0 1 2 x threads 1 2, one by one
    python benchmarks/demo_spread.py --seeds 0 1 --threads 1 --output output/spread_quick
    python benchmarks/demo_spread.py --jobs 2          # two runs at once (slower each)
    python benchmarks/demo_spread.py --threads 1 -- SOLVER.MAX_ITER 400 SOLVER.BASE_LR 0.001

Trains configs/synthetic_demo.yaml (what `make demo` runs) once per seed and thread count, then
prints every run's mIoU and wall time and the minimum, maximum, spread and median of the mIoU
(also written to OUTPUT/spread.md). KEY VALUE pairs override the config of every run; after
--seeds or --threads, put them behind "--" (those options take several numbers).
"""
import sys

from agmm_d2.benchmarking.demo import DEMO_CONFIG, measure_demo_spread, spread_table
from agmm_d2.cli.options import exit_status_of, tool_parser
from agmm_d2.utils.errors import InputError


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--config", default=DEMO_CONFIG, help="config file (default: the demo)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="OMP_NUM_THREADS values, each run with every seed")
    parser.add_argument("--jobs", type=int, choices=[1, 2], default=1,
                        help="runs at once (default 1: each run's time is its own)")
    parser.add_argument("--output", default="output/demo_spread",
                        help="folder of the runs; must not hold them already")
    parser.add_argument("opts", nargs="*", metavar="KEY VALUE", help="config overrides")
    return parser


def main(args) -> int:
    runs = measure_demo_spread(args.seeds, args.threads, args.output, config=args.config,
                               overrides=args.opts, jobs=args.jobs)
    print("\n" + spread_table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(exit_status_of("demo_spread.py", main, argument_parser().parse_args(),
                            (InputError,)))
