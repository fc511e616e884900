"""A scan of a dataset's files before a run: every image decodes, every label is a single-channel
map of its image's size with allowed values, the training set has annotated pixels.

One implementation serves ``tools/train_net.py`` and the Python API (before any process
starts) and ``datasets_prep/check_dataset.py``. What each file holds (decodes or not, mode,
size, label value counts) is cached per file by path, size and modification time, so a second
scan of an unchanged dataset reads no image.
"""
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from detectron2.data.detection_utils import read_image
from PIL import Image

from ...utils.atomic import atomic_write
from ..label_io import read_label

__all__ = ["ScanReport", "default_cache_dir", "file_facts", "scan_records"]

# Bump when the facts recorded per file change: older cache entries are then ignored.
CACHE_VERSION = 2
# Problem lines shown in full; the rest are counted.
SHOWN = 5


def default_cache_dir() -> Path:
    """$AGMM_D2_CACHE, else $XDG_CACHE_HOME/agmm_d2, else ~/.cache/agmm_d2; scans go in scan/."""
    root = os.environ.get("AGMM_D2_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "agmm_d2"
    return Path(root) / "scan"


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def _image_facts(path: str) -> dict:
    """The image read as the training and test loaders read it (detectron2's ``read_image``:
    decoded in full, turned by its EXIF orientation, converted to RGB); ``stored_size`` too
    when the orientation swaps its sides."""
    with Image.open(path) as im:
        stored = list(im.size)
    height, width = read_image(path, format="RGB").shape[:2]
    facts = {"size": [width, height]}
    if stored != facts["size"]:
        facts["stored_size"] = stored
    return facts


def file_facts(path: str, kind: str) -> dict:
    """What the file at ``path`` holds: ``{"error": message}``, or ``{"size": [w, h]}`` for an
    image as the loader reads it (decoded in full, so a truncated file is found; after its
    EXIF orientation, with ``"stored_size"`` when that swaps the sides), plus ``"values":
    [[value, count],
    ...]`` for a label (``kind`` "label"), read as ``read_label`` does."""
    try:
        if kind == "image":
            return _image_facts(path)
        label = read_label(path)
    except FileNotFoundError:
        return {"error": "file not found"}
    except ValueError as e:  # read_label: a colour label
        return {"error": str(e).split(": ", 1)[-1]}
    except Exception as e:  # PIL raises several types for broken files
        return {"error": f"cannot decode the {kind} ({_first_line(e)})"}
    if label.dtype == np.uint8:
        counts = np.bincount(label.ravel(), minlength=256)
        values = np.flatnonzero(counts)
        counts = counts[values]
    else:
        values, counts = np.unique(label, return_counts=True)
    return {"size": [label.shape[1], label.shape[0]],
            "values": [[int(v), int(c)] for v, c in zip(values, counts)]}


class _FactsCache:
    """File facts keyed by absolute path, valid while the file's size and mtime are unchanged."""

    def __init__(self, path: Optional[Path]):
        self.path = path
        self.entries: Dict[str, list] = {}
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text())
                if data.get("version") == CACHE_VERSION:
                    self.entries = data["files"]
            except (OSError, ValueError, KeyError):
                self.entries = {}  # a damaged cache is rebuilt, never trusted
        self.used: Dict[str, list] = {}
        self.hits = 0

    @staticmethod
    def _stamp(path: str):
        try:
            st = os.stat(path)
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns]

    def get(self, path: str, kind: str) -> Optional[dict]:
        key = os.path.abspath(path)
        entry = self.entries.get(key)
        stamp = self._stamp(path)
        if entry is not None and stamp is not None and entry[:3] == stamp + [kind]:
            self.used[key] = entry
            self.hits += 1
            return entry[3]
        return None

    def put(self, path: str, kind: str, facts: dict) -> None:
        stamp = self._stamp(path)
        if stamp is not None and "error" not in facts:  # a broken file is read again next time
            self.used[os.path.abspath(path)] = stamp + [kind, facts]

    def save(self) -> None:
        """Write the entries of this scan (only: the cache follows the dataset)."""
        if self.path is None:
            return
        try:
            with atomic_write(self.path) as tmp:
                tmp.write_text(json.dumps({"version": CACHE_VERSION, "files": self.used}))
        except OSError:
            pass  # a cache that cannot be written costs time, not correctness


@dataclass
class ScanReport:
    """What a scan found: ``problems`` (the run cannot use the file) and ``warnings`` (it can,
    but something is off), each as (kind, path, message) in dataset order, and totals."""

    dataset: str
    images: int = 0
    files: int = 0
    cached: int = 0
    # Over the counted labels (the sparse ones; in a training scan, those the run trains on):
    counted_labels: int = 0
    annotated_pixels: int = 0
    counted_pixels: int = 0
    class_pixels: List[int] = field(default_factory=list)
    images_with_image_classes: int = 0
    problems: List[Tuple[str, str, str]] = field(default_factory=list)
    warnings: List[Tuple[str, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self, role: str = "", warnings: bool = False) -> str:
        """A readable report of the problems (or the warnings): a line, then the first few and a
        count of the rest."""
        found = self.warnings if warnings else self.problems
        what = "warning(s)" if warnings else "broken file(s) or problem(s)"
        head = f"{role + ' ' if role else ''}dataset {self.dataset!r}: {len(found)} {what} in " \
               f"{self.images} images"
        lines = [head + ":"] + [f"  {path}: {message}" for _, path, message in found[:SHOWN]]
        if len(found) > SHOWN:
            lines.append(f"  ... and {len(found) - SHOWN} more")
        return "\n".join(lines)


def _cache_file(cache_dir: Optional[Path], dataset: str) -> Optional[Path]:
    if cache_dir is None:
        return None
    digest = hashlib.sha1(dataset.encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in dataset)[:60]
    return Path(cache_dir) / f"{safe}-{digest}.json"


def _gather_facts(files: Sequence[Tuple[str, str]], cache: _FactsCache, workers: int) -> dict:
    """{path: facts} of every (path, kind), from the cache or read in ``workers`` threads
    (PIL and zlib release the GIL while they decode)."""
    facts, missing = {}, []
    for path, kind in dict.fromkeys(files):
        cached = cache.get(path, kind)
        if cached is None:
            missing.append((path, kind))
        else:
            facts[path] = cached
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for (path, kind), result in zip(missing, pool.map(lambda pk: file_facts(*pk), missing,
                                                         chunksize=64)):
            facts[path] = result
            cache.put(path, kind, result)
    return facts


def _labels_to_check(record: dict, role: str) -> List[Tuple[str, bool]]:
    """(label path, is sparse) of the labels a run of ``role`` reads from ``record``."""
    sparse, dense = record.get("sparse_seg_file_name"), record.get("sem_seg_file_name")
    if role == "train":
        return [(sparse, True)] if sparse else [(dense, False)] if dense else []
    if role == "test":  # a set without dense labels is evaluated on its annotated pixels
        return [(dense, False)] if dense else [(sparse, True)] if sparse else []
    return [(path, is_sparse) for path, is_sparse in ((sparse, True), (dense, False)) if path]


def scan_records(dataset: str, records: List[dict], *, num_classes: int, role: str = "train",
                 ignore_label: int = 255, unlabeled_value: int = 255,
                 allow_values_outside: bool = False, cache_dir: Optional[Path] = None,
                 workers: Optional[int] = None) -> ScanReport:
    """Scan the files of ``records`` (detectron2 dataset dicts of ``dataset``).

    Args:
        role: "train" checks the label the training mapper reads (``sparse_seg_file_name``,
            else ``sem_seg_file_name``), the image-level labels, and that some pixel is
            annotated; "test" checks the label that evaluation reads (the dense
            ``sem_seg_file_name``, else ``sparse_seg_file_name``); "all" checks every label
            of every dict.
        ignore_label: the void value of dense labels; 255 is always allowed in sparse ones.
        unlabeled_value: "not annotated" in sparse labels of dicts that do not carry their own
            ``sparse_unlabeled_value``.
        allow_values_outside: do not report dense label values outside the classes (evaluation
            counts them as ignored, ``TEST.OUT_OF_RANGE_LABELS ignore``).
        cache_dir: where file facts are cached (None: no cache).
        workers: threads that read files (default: the number of CPUs).
    """
    if role not in ("train", "test", "all"):
        raise ValueError(f"role must be 'train', 'test' or 'all', got {role!r}")
    cache = _FactsCache(_cache_file(cache_dir, dataset))
    files = []
    for r in records:
        files.append((r["file_name"], "image"))
        files += [(path, "label") for path, _ in _labels_to_check(r, role)]
    facts = _gather_facts(files, cache, workers or os.cpu_count() or 1)
    report = ScanReport(dataset, images=len(records), files=len(set(p for p, _ in files)),
                        cached=cache.hits, class_pixels=[0] * num_classes)
    for r in records:
        _scan_record(r, facts, report, role=role, num_classes=num_classes,
                     ignore_label=ignore_label, unlabeled_value=unlabeled_value,
                     allow_values_outside=allow_values_outside)
    if role == "train" and records and report.annotated_pixels == 0 and not report.problems:
        report.problems.append(("no_annotation", dataset, "no label of the training set annotates "
                                "any pixel (every value is unlabeled or ignore): nothing to "
                                "learn from"))
    cache.save()
    return report


def _size_mismatch(label_size, image: dict, image_path: str) -> str:
    """Why a label of ``label_size`` does not fit its image (facts of ``_image_facts``)."""
    (w, h), (iw, ih) = label_size, image["size"]
    message = f"label is {w}x{h} (WxH) but its image {image_path} is {iw}x{ih}"
    stored = image.get("stored_size")
    if stored is None:
        return message
    if list(label_size) == list(stored):
        return (f"label is {w}x{h} (WxH), the image {image_path} as stored, but the loader "
                f"turns that image by its EXIF orientation to {iw}x{ih}: turn the label the "
                "same way, or remove the orientation tag from the image")
    return message + (f" as the loader reads it (after its EXIF orientation; stored "
                      f"{stored[0]}x{stored[1]})")


def _scan_record(r: dict, facts: dict, report: ScanReport, *, role: str, num_classes: int,
                 ignore_label: int, unlabeled_value: int, allow_values_outside: bool) -> None:
    image = facts[r["file_name"]]
    if "error" in image:
        report.problems.append(("unreadable_image", r["file_name"], image["error"]))
    size = image.get("size")
    if size is not None and "height" in r and [r.get("width"), r["height"]] != list(size):
        report.problems.append(("image_size_mismatch", r["file_name"],
                                f"image is {size[0]}x{size[1]} (WxH) but the dataset lists "
                                f"{r.get('width')}x{r['height']}"))
    labels = _labels_to_check(r, role)
    if role == "test" and not labels:
        report.problems.append(("missing_dense_label", r["file_name"],
                                "no label to evaluate against"))
    if r.get("image_classes") is not None and role != "test":
        report.images_with_image_classes += 1
        outside = [c for c in r["image_classes"] if not 0 <= c < num_classes]
        if outside:
            report.problems.append(("image_classes_out_of_range", r["file_name"],
                                    f"image_classes {outside} are not class ids "
                                    f"0..{num_classes - 1}"))
    for path, is_sparse in labels:
        label = facts[path]
        if is_sparse:
            allowed = {r.get("sparse_unlabeled_value", unlabeled_value), 255}
        else:
            allowed = {ignore_label} | (set(range(256)) if allow_values_outside else set())
        if "error" in label:
            report.problems.append(("unreadable_label", path, label["error"]))
            continue
        if size is not None and list(label["size"]) != list(size):
            report.problems.append(("size_mismatch", path,
                                    _size_mismatch(label["size"], image, r["file_name"])))
        bad = [v for v, _ in label["values"] if not (0 <= v < num_classes) and v not in allowed]
        if bad:
            report.problems.append(("bad_values", path, (
                f"label values {bad[:10]} are neither class ids 0..{num_classes - 1} nor "
                f"{sorted(allowed) if len(allowed) < 10 else 'allowed'} (unlabeled/ignore); "
                "check the number of classes and the dataset's unlabeled and ignore values")))
        if not (is_sparse or role == "train"):
            continue
        counted = [(v, c) for v, c in label["values"] if 0 <= v < num_classes]
        report.counted_labels += 1
        report.counted_pixels += sum(c for _, c in label["values"])
        report.annotated_pixels += sum(c for _, c in counted)
        for v, c in counted:
            report.class_pixels[v] += c
        unlisted = sorted({v for v, _ in counted} - set(r.get("image_classes") or range(256))) \
            if is_sparse else []
        if unlisted:
            report.warnings.append(("sparse_class_not_in_image_classes", path, (
                f"annotates classes {unlisted}, not in its image_classes "
                f"{list(r['image_classes'])}")))
