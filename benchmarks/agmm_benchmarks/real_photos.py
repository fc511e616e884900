"""AGMM against partial cross-entropy on real photos: IDD-Lite road scenes (7 classes), sparse
labels made by this project's tools, every run a tools/train_net.py run from scratch on the CPU.

    python benchmarks/real_photos.py                  # the table: 5 rows x 3 label types, 3 seeds
    python benchmarks/real_photos.py --curve          # mIoU against clicks per image, as a PNG
    python benchmarks/real_photos.py --seeds 0 --max-iter 50 --output /tmp/quick

IDD-Lite is read from ``--root`` (default ``$DETECTRON2_DATASETS/idd20k_lite``; its terms allow
non-commercial research only: it is never part of this repository). The sparse labels are made
once under ``<root>/sparse/`` with ``agmm_d2.data.sparse_labels`` (the code of datasets_prep's
make_clicks.py and make_scribbles.py): 20 random clicks per image, 2 clicks of radius 1 in every
region, 3-px scribbles (and 5 and 100 clicks for the curve). Each label type trains with its
configs ``configs/idd_lite/<type>_<variant>.yaml``: ``baseline`` (partial CE), ``released``
(AGMM as released), ``robust`` (the preset), ``baseline_pairwise`` (partial CE + the Gated CRF
pairwise term), ``robust_pairwise``, ``baseline_balanced`` (class-balanced partial CE),
``robust_balanced`` (the preset with class-balanced partial CE and GMM terms), and
``configs/idd_lite/dense.yaml``. Without ``--methods`` (variants, and ``dense``) the table
trains the rows of DEFAULT_METHODS (45 runs); ``--methods`` adds the others (``robust``,
``baseline_balanced``, ``dense``).
Runs are resumable and go two at a time, single-threaded (agmm_benchmarks.runs).

Prints a Markdown table (mean ± std over seeds, per seed, the paired difference to partial CE
with the number of seeds where it is better, and the lowest per-class IoU of any run), the IoU
of each class (mean over seeds, and how many runs left it at 0) and the run time, and writes
them with the raw numbers to ``--output``.
"""
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

from agmm_benchmarks.runs import run_all, time_summary
from agmm_benchmarks.tables import mean_pm_std, paired_cell, per_seed
from agmm_d2.cli.options import add_output_argument, tool_parser
from agmm_d2.data import datasets_root
from agmm_d2.data.datasets.idd_lite import IDD_LITE_CLASSES, IDD_LITE_DIRNAME, SPARSE_KINDS
from agmm_d2.data.sparse_labels import make_clicks, make_scribbles
from agmm_d2.utils.atomic import atomic_write

REPO = Path(__file__).resolve().parents[2]
TRAIN_NET = [sys.executable, str(REPO / "tools" / "train_net.py")]
LABEL_SUFFIX = "_label.png"

# Label type of the table -> (sparse kind of idd_lite.SPARSE_KINDS, the labels of its configs).
LABEL_TYPES = {
    "20 clicks": ("20clicks", "20clicks"),
    "points": ("points", "points"),
    "scribbles": ("scribbles", "scribbles"),
}
# Row -> the variant of its configs (configs/idd_lite/<labels>_<variant>.yaml).
METHODS = {"partial CE": "baseline", "AGMM, released": "released", "AGMM, preset": "robust",
           "partial CE + pairwise": "baseline_pairwise",
           "AGMM preset + pairwise": "robust_pairwise",
           "partial CE, class-balanced": "baseline_balanced",
           "AGMM preset, class-balanced": "robust_balanced"}
DENSE = "dense labels, cross-entropy"
# --methods: a short name for each row (its config variant, "dense" for the dense labels).
METHOD_KEYS = {variant: method for method, variant in METHODS.items()}
METHOD_KEYS["dense"] = DENSE
# The table's rows without --methods: partial CE and the released terms, the class-balanced preset
# and the pairwise variants. The unbalanced preset, class-balanced partial CE and dense labels
# (docs/results.md has them) are left to --methods: they would cost 21 more runs.
DEFAULT_METHODS = ("baseline", "released", "robust_balanced", "baseline_pairwise",
                   "robust_pairwise")
# The label-budget curve: clicks per image, trained with the 20-clicks configs.
CURVE_CLICKS = (5, 20, 100)
CURVE_METHODS = ("partial CE", "AGMM, preset")


def make_sparse_labels(root: Path, kinds) -> None:
    """Write ``<root>/sparse/<folder>`` for each kind that is not there yet."""
    dense = root / "gtFine" / "train"
    for kind in kinds:
        folder = SPARSE_KINDS[kind]
        if (root / "sparse" / folder).is_dir():
            continue
        start = time.perf_counter()
        if kind == "scribbles":
            make_scribbles(dense, root / "sparse", width=3, suffix=LABEL_SUFFIX)
        elif kind == "points":
            make_clicks(dense, root / "sparse", per_region=2, radius=1, suffix=LABEL_SUFFIX)
        else:
            make_clicks(dense, root / "sparse", clicks=int(kind[:-len("clicks")]),
                        suffix=LABEL_SUFFIX)
        print(f"made {root / 'sparse' / folder} ({time.perf_counter() - start:.0f} s)", flush=True)


def class_ious(run_dir: Path) -> Dict[str, float]:
    """The per-class IoU of the run's final evaluation (metrics.json)."""
    records = [json.loads(line) for line in (run_dir / "metrics.json").read_text().splitlines()
               if line.strip()]
    last = [r for r in records if "sem_seg/mIoU" in r][-1]
    return {c: last[f"sem_seg/IoU-{c}"] for c in IDD_LITE_CLASSES}


def plan(seeds, max_iter, curve: bool, methods=None, labels=None):
    """[(run name, label printed, config, overrides)] and the (row, column) of each run.

    ``methods`` (rows, the names of METHOD_KEYS' values) and ``labels`` (label types) select a
    part of the table; None: all of it.
    """
    runs, keys = [], []

    def add(row, column, config, extra, seed):
        if (methods is not None and row not in methods) or \
                (labels is not None and column not in labels and column != "dense"):
            return
        overrides = list(extra) + ["SEED", str(seed)]
        if max_iter:
            overrides += ["SOLVER.MAX_ITER", str(max_iter)]
        name = "".join(c if c.isalnum() else "_" for c in f"{row}_{column}_seed{seed}".lower())
        runs.append((name, f"{row}, {column}, seed {seed}", f"configs/{config}.yaml", overrides))
        keys.append((row, column))

    for seed in seeds:  # seed by seed: a partial table already has every row
        add(DENSE, "dense", "idd_lite/dense", [], seed)
        if curve:
            for clicks in CURVE_CLICKS:
                for method in CURVE_METHODS:
                    add(method, f"{clicks} clicks", f"idd_lite/20clicks_{METHODS[method]}",
                        ["DATASETS.TRAIN", f"('idd_lite_train_{clicks}clicks',)"], seed)
            continue
        for label, (_, config_labels) in LABEL_TYPES.items():
            for method, variant in METHODS.items():
                add(method, label, f"idd_lite/{config_labels}_{variant}", [], seed)
    return runs, keys


def table(results, lowest, columns, rows) -> str:
    """Markdown: per row and label type, mean ± std, per seed, and the paired difference to
    partial CE (seeds better); the lowest per-class IoU of the row's runs."""
    lines = ["| labels | training | mIoU, mean ± std | per seed | vs partial CE (seeds better) "
             "| lowest class IoU |", "| --- | --- | --- | --- | --- | --- |"]
    for column in columns:
        for row in rows:
            values = results.get((row, column))
            if not values:
                continue
            base = results.get(("partial CE", column))
            gain = ""
            if row != "partial CE" and base and len(base) == len(values):
                gain = paired_cell(values, base)
            lines.append(f"| {column} | {row} | {mean_pm_std(values)} | "
                         f"{per_seed(values)} | {gain} | "
                         f"{lowest[(row, column)]:.1f} |")
    return "\n".join(lines)


def class_table(per_class, columns, rows) -> str:
    """Markdown: per label type and row, each class's IoU (mean over seeds) and the number of
    runs in which it stayed at 0."""
    short = [c.replace(" things", "").replace(" objects", "") for c in IDD_LITE_CLASSES]
    lines = ["| labels | training | " + " | ".join(short) + " |",
             "| --- | --- | " + " | ".join("---" for _ in short) + " |"]
    for column in columns:
        for row in rows:
            runs = per_class.get((row, column))
            if not runs:
                continue
            cells = []
            for c in IDD_LITE_CLASSES:
                values = [run[c] for run in runs]
                zeros = sum(v == 0 for v in values)
                cells.append(f"{statistics.mean(values):.1f}" + (f" ({zeros}x 0)" if zeros else ""))
            lines.append(f"| {column} | {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_curve(results, dense: List[float], path: Path) -> None:
    """mIoU (mean and spread over seeds) against clicks per image, dense labels as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for method, marker in zip(CURVE_METHODS, "os"):
        values = [results[(method, f"{c} clicks")] for c in CURVE_CLICKS]
        means = [statistics.mean(v) for v in values]
        ax.errorbar(CURVE_CLICKS, means, yerr=[[m - min(v) for m, v in zip(means, values)],
                                               [max(v) - m for m, v in zip(means, values)]],
                    marker=marker, capsize=3, label=method)
    ax.axhline(statistics.mean(dense), color="grey", linestyle="--", label="dense labels")
    ax.set_xscale("log")
    ax.set_xticks(CURVE_CLICKS, [str(c) for c in CURVE_CLICKS])
    ax.set_xlabel("random clicks per image")
    ax.set_ylabel("mIoU on IDD-Lite val (%)")
    ax.set_title(f"Label budget on IDD-Lite (mean, min-max over {len(dense)} seeds)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp)
    plt.close(fig)


def main(argv=None):
    parser = tool_parser(__doc__)
    parser.add_argument("--root", type=Path, default=Path(datasets_root()) / IDD_LITE_DIRNAME)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-iter", type=int, default=None, help="override SOLVER.MAX_ITER")
    parser.add_argument("--curve", action="store_true",
                        help="the label-budget curve instead of the table")
    parser.add_argument("--figure", type=Path, default=REPO / "docs" / "idd_lite_label_budget.png",
                        help="where --curve draws its PNG")
    add_output_argument(parser, "runs and results (default output/real_photos or .../curve)",
                        required=False, type=Path)
    parser.add_argument("--methods", nargs="+", choices=list(METHOD_KEYS), default=None,
                        help="these rows (default: " + " ".join(DEFAULT_METHODS) + ")")
    parser.add_argument("--labels", nargs="+", choices=[k for k, _ in LABEL_TYPES.values()],
                        default=None, help="only these label types (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    args = parser.parse_args(argv)
    if args.curve and (args.methods or args.labels):
        parser.error("--methods and --labels select a part of the table, not of --curve")
    if not (args.root / "gtFine" / "train").is_dir():
        raise SystemExit(f"{args.root}: not IDD-Lite (no gtFine/train); set --root or "
                         "DETECTRON2_DATASETS to the folder that holds idd20k_lite/")
    out = args.output or REPO / "output" / ("real_photos_curve" if args.curve else "real_photos")
    kinds = [f"{c}clicks" for c in CURVE_CLICKS] if args.curve else \
        [kind for kind, _ in LABEL_TYPES.values()]
    make_sparse_labels(args.root, kinds)

    methods = None if args.curve else \
        [METHOD_KEYS[m] for m in (args.methods or DEFAULT_METHODS)]
    labels = None if args.labels is None else \
        [label for label, (kind, _) in LABEL_TYPES.items() if kind in args.labels]
    runs, keys = plan(args.seeds, args.max_iter, args.curve, methods, labels)
    start = time.perf_counter()
    # DETECTRON2_DATASETS of the runs: the folder that holds --root.
    os.environ["DETECTRON2_DATASETS"] = str(args.root.resolve().parent)
    mious = run_all(runs, out, TRAIN_NET, cwd=REPO, jobs=args.jobs, threads=args.threads)
    minutes = (time.perf_counter() - start) / 60
    results, per_class = {}, {}
    for (name, *_), key, miou in zip(runs, keys, mious):
        results.setdefault(key, []).append(miou)
        per_class.setdefault(key, []).append(class_ious(out / name))
    lowest = {key: min(min(run.values()) for run in runs) for key, runs in per_class.items()}
    footer = (
        f"seeds {args.seeds}"
        + (f", SOLVER.MAX_ITER {args.max_iter}" if args.max_iter else "")
        + f"; {time_summary([out / name for name, *_ in runs])}; wall time of this "
        f"invocation {minutes:.1f} min"
    )
    if args.curve:
        plot_curve(results, results[(DENSE, "dense")], args.figure)
        columns = [f"{c} clicks" for c in CURVE_CLICKS] + ["dense"]
        rows = list(CURVE_METHODS) + [DENSE]
        footer += f"; figure {args.figure}"
    else:
        columns = list(LABEL_TYPES) + ["dense"]
        rows = list(METHODS) + [DENSE]
    text = table(results, lowest, columns, rows)
    text += (
        "\n\nIoU per class, mean over seeds ((n x 0): runs in which the class stayed at 0):\n\n"
        + class_table(per_class, columns, rows)
    )
    print("\n" + text + "\n\n" + footer)
    with atomic_write(out / "table.md") as tmp:
        tmp.write_text(text + "\n\n" + footer + "\n")
    with atomic_write(out / "results.json") as tmp:
        tmp.write_text(json.dumps({"seeds": args.seeds, "max_iter": args.max_iter,
                                   "minutes": minutes,
                                   "miou": {f"{r} | {c}": v for (r, c), v in results.items()},
                                   "class_iou": {f"{r} | {c}": v
                                                 for (r, c), v in per_class.items()}},
                                  indent=1))

