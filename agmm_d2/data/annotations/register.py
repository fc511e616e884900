"""``register_annotations``: a dataset straight from an annotation export."""
import hashlib
import json
import logging
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from ...utils.atomic import atomic_write
from ...utils.errors import InputError
from ..datasets.generic import register_sparse_sem_seg
from .importer import IMPORTER_VERSION, REPORT_FILE, detect_format, image_files, import_annotations
from .labelme import labelme_files
from .rasterize import RasterOptions
from .shapes import class_ids, read_class_list

__all__ = ["annotations_folder", "import_stamp", "register_annotations", "split_keys"]

logger = logging.getLogger(__name__)


def annotations_folder(export) -> Path:
    """Where an export's sparse labels go by default: ``<export name>_sparse`` beside it."""
    export = Path(export)
    return export.parent / f"{export.stem if export.is_file() else export.name}_sparse"


def import_stamp(image_root, export, output, names: Sequence[str], format: str,
                 options: RasterOptions, ignore_names: Sequence[str]) -> str:
    """A hash of everything an import depends on: the export's bytes, the image list, the
    classes and the options."""
    export, image_root = Path(export), Path(image_root)
    digest = hashlib.sha256(json.dumps([IMPORTER_VERSION, format, list(names), options.as_dict(),
                                        list(ignore_names)]).encode())
    for file in labelme_files(export, output) if export.is_dir() else [export]:
        digest.update(str(file.relative_to(export) if export.is_dir() else "").encode())
        digest.update(file.read_bytes())
    for rel, path in image_files(image_root, output).items():
        digest.update(f"{rel}:{path.stat().st_size}".encode())
    return digest.hexdigest()


def split_keys(keys: Sequence[str], holdout: float, seed: int):
    """(training keys, held-out keys): a seeded random ``holdout`` fraction held out."""
    if not 0 <= holdout < 1:
        raise InputError(f"holdout {holdout}: expected a fraction in [0, 1)")
    keys = sorted(keys)
    count = int(round(holdout * len(keys)))
    if holdout and not 1 <= count < len(keys):
        raise InputError(f"holdout {holdout} of {len(keys)} annotated images holds out "
                         f"{count}; annotate more images or change the fraction")
    order = np.random.default_rng(seed).permutation(len(keys))
    held = sorted(keys[i] for i in order[:count])
    return [k for k in keys if k not in set(held)], held


def _write_split(path: Path, keys: Sequence[str]) -> Path:
    text = "".join(f"{k}\n" for k in keys)
    if not path.is_file() or path.read_text() != text:
        with atomic_write(path) as tmp:
            tmp.write_text(text)
    return path


def register_annotations(name: str, image_root, export, classes, *,
                         format: Optional[str] = None, output=None, holdout: float = 0.0,
                         seed: int = 0, point_radius: int = 2, line_width: int = 3,
                         boxes: str = "skip", overlap: str = "smaller",
                         mask_threshold: int = 128,
                         ignore_names: Sequence[str] = ("__ignore__",),
                         **metadata) -> List[str]:
    """Register a dataset of the images of ``image_root`` with the sparse labels of ``export``
    (a LabelMe folder or file, a CVAT for images 1.1 XML, a Label Studio JSON export).

    The export is rasterised into ``output`` (default: ``<export name>_sparse`` beside it) on the
    first call, and again only when the export, the image list, the classes or the options
    change. Evaluation of the dataset uses its annotated pixels (evaluator "sparse_sem_seg").

    Args:
        classes: class names in id order (a list, or a file with one name a line).
        format: "labelme", "cvat", "labelstudio", or None to recognise it.
        holdout: a fraction of the annotated images to hold out: registers ``<name>_train`` and
            ``<name>_val`` (seeded by ``seed``) instead of ``name``.
        point_radius, line_width, boxes, overlap, mask_threshold: see ``RasterOptions``.
        ignore_names: label names that mark "not annotated" instead of a class.
        metadata: further metadata for ``register_sparse_sem_seg``.

    Returns the registered dataset names.
    """
    options = RasterOptions(point_radius=point_radius, line_width=line_width, boxes=boxes,
                            overlap=overlap, mask_threshold=mask_threshold)
    names = [n for n, i in class_ids(read_class_list(classes), ignore_names).items() if i != 255]
    if not Path(export).exists():
        raise InputError(f"--export {export}: no such file or folder")
    format = format or detect_format(export)
    output = Path(output) if output is not None else annotations_folder(export)
    stamp = import_stamp(image_root, export, output, read_class_list(classes), format, options,
                         ignore_names)
    report_file = output / REPORT_FILE
    current = report_file.is_file() and json.loads(report_file.read_text()).get("stamp") == stamp
    if not current:
        report = import_annotations(image_root, export, classes, output, format=format,
                                    options=options, ignore_names=ignore_names, stamp=stamp)
        logger.info("%s", report.summary())
    keys = sorted(str(p.relative_to(output).with_suffix("")) for p in output.rglob("*.png"))
    images = image_files(Path(image_root), output).values()
    extensions = tuple(sorted({p.suffix for p in images}))
    splits = dict(zip((f"{name}_train", f"{name}_val"), split_keys(keys, holdout, seed))) \
        if holdout else {name: keys}
    for dataset, split in splits.items():
        split_file = _write_split(output / f"{dataset}.txt", split)
        register_sparse_sem_seg(dataset, image_root, sparse_root=output, classes=names,
                                image_ext=extensions, split_file=split_file, **metadata)
    return list(splits)
