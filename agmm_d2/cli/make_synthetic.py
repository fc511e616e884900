"""Generate the built-in synthetic sparse-label dataset (no download needed).

Writes <root>/agmm_synthetic/ (see agmm_d2/data/synthetic/generator.py for the layout).
Re-running with the same parameters keeps the existing dataset. The same from Python:
``agmm_d2.data.synthetic.generate``.

    python datasets_prep/make_synthetic.py                  # under $DETECTRON2_DATASETS
    python datasets_prep/make_synthetic.py --root /data/datasets --n-train 100
"""
import time

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of, tool_parser
from agmm_d2.data.datasets import datasets_root
from agmm_d2.data.synthetic import generate


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--root", default=datasets_root(),
                        help="datasets folder (default: $DETECTRON2_DATASETS or ./datasets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--n-val", type=int, default=100)
    parser.add_argument("--n-test", type=int, default=1000, help="the demo's evaluation set")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels")
    parser.add_argument("--force", action="store_true", help="regenerate even if complete")
    return parser


def run(args) -> int:
    start = time.perf_counter()
    out = generate(args.root, seed=args.seed, n_train=args.n_train, n_val=args.n_val,
                   n_test=args.n_test, size=args.size, force=args.force)
    print(f"synthetic dataset ready at {out} ({time.perf_counter() - start:.1f} s)")
    return 0


def main(argv=None) -> int:
    # exit_status_of runs it so that SIGTERM leaves no half-written dataset folder.
    return exit_status_of("make_synthetic.py", run, argument_parser().parse_args(argv),
                          PREP_ERRORS)
