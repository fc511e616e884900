"""Cost of the dataset scan that runs before training: a folder of 10,000 small images with
sparse labels, scanned without a cache (first run) and again with it (second run).

    python benchmarks/scan_speed.py                  # 10,000 images of 128x128, 3 repeats
    python benchmarks/scan_speed.py --images 2000 --repeats 1

The folder is made by copying the built-in synthetic set (``make data``: 300 training images,
RGB PNGs with their point labels) under new names, so the files are real images and labels;
it is written under ``--work`` (default: a temporary folder, removed at the end). Each repeat
scans with an empty cache, then again with the cache of that scan. Prints the median times.
"""
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from detectron2.data import DatasetCatalog

from agmm_d2.cli.options import tool_parser
from agmm_d2.data import datasets_root, register_sparse_sem_seg
from agmm_d2.data.checks.scan import scan_records
from agmm_d2.data.synthetic import CLASSES, DIRNAME


def make_folder(source: Path, work: Path, count: int) -> None:
    """``count`` image/label pairs under ``work/{images,labels}``, copied round-robin."""
    images = sorted((source / "images" / "train").glob("*.png"))
    if not images:
        raise SystemExit(f"{source}: no synthetic images; run `make data` first")
    for sub in ("images", "labels"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = images[i % len(images)]
        shutil.copyfile(image, work / "images" / f"{i:05d}.png")
        shutil.copyfile(source / "point" / "train" / image.name, work / "labels" / f"{i:05d}.png")


def main(argv=None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="threads (default: CPUs)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the copies (kept)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="agmm_scan_"))
    try:
        start = time.perf_counter()
        make_folder(Path(datasets_root()) / DIRNAME, work, args.images)
        print(f"made {args.images} images + labels in {time.perf_counter() - start:.0f} s")
        register_sparse_sem_seg("scan_speed", work / "images", work / "labels", classes=CLASSES,
                                image_ext=".png")
        start = time.perf_counter()
        records = DatasetCatalog.get("scan_speed")
        listing = time.perf_counter() - start
        first, cached = [], []
        for repeat in range(args.repeats):
            cache = work / f"cache{repeat}"
            for times in (first, cached):
                start = time.perf_counter()
                report = scan_records("scan_speed", records, num_classes=len(CLASSES),
                                      cache_dir=cache, workers=args.workers)
                times.append(time.perf_counter() - start)
                assert report.ok, report.summary()
            print(f"repeat {repeat}: first {first[-1]:.1f} s, cached {cached[-1]:.2f} s "
                  f"({report.cached} of {report.files} files from the cache)")
        print(
            f"\n{args.images} images ({report.files} files), {args.workers or 'all'} CPU threads: "
            f"listing {listing:.1f} s; scan median of {args.repeats}: first run "
            f"{statistics.median(first):.1f} s, cached run {statistics.median(cached):.2f} s"
        )
    finally:
        if args.work is None:
            shutil.rmtree(work)

