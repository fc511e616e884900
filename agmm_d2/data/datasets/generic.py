"""Register any folder of images with sparse (and optionally dense) label PNGs.

Files are paired by their path relative to each root with the extension (or suffix) removed:
``<image_root>/a/b.jpg`` pairs with ``<sparse_root>/a/b.png`` and ``<dense_root>/a/b.png``.
"""
import logging
from pathlib import Path
from typing import List, Optional, Sequence

from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

logger = logging.getLogger(__name__)


class DatasetLayoutError(FileNotFoundError):
    """A dataset folder or file is missing or not what the registration expects."""


def default_colors(num_classes: int) -> List[List[int]]:
    """A fixed, distinct RGB colour per class (the PASCAL VOC colour map)."""
    colors = []
    for i in range(num_classes):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        colors.append([r, g, b])
    return colors


def _require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise DatasetLayoutError(
            f"{path}: {'not a folder' if path.exists() else 'does not exist'}; expected {what}. "
            "Set DETECTRON2_DATASETS to the folder that holds your datasets (default ./datasets), "
            "or pass the right root to the register function.")
    return path


def _index(root: Path, suffix: str) -> dict:
    """{relative path without suffix: file} for every file under ``root`` ending in ``suffix``."""
    return {str(p.relative_to(root))[: -len(suffix)]: p
            for p in sorted(root.rglob(f"*{suffix}")) if p.is_file()}


def load_sparse_sem_seg(image_root, sparse_root=None, dense_root=None, *, image_ext=".jpg",
                        label_ext=".png", sparse_ext: Optional[str] = None,
                        split_file=None, unlabeled_value: int = 255) -> List[dict]:
    """Dataset dicts for images paired with sparse and/or dense labels.

    Returns detectron2 dicts with ``file_name``, ``image_id``, ``height``, ``width``, and
    ``sparse_seg_file_name`` / ``sem_seg_file_name`` for the roots that are given. With a
    sparse root, each dict also carries ``sparse_unlabeled_value`` (the value that marks "not
    annotated" in its sparse file), so the training mapper needs no MetadataCatalog lookup.

    With ``split_file`` (one key per line), exactly those images are used and a missing file is
    an error. Without it, images are paired by key and images lacking a label are skipped.
    """
    image_root = _require_dir(Path(image_root), f"a folder of *{image_ext} images")
    sparse_ext = sparse_ext or label_ext
    images = _index(image_root, image_ext)
    labels = {}
    if sparse_root is not None:
        root = _require_dir(Path(sparse_root), f"a folder of *{sparse_ext} sparse label files")
        labels["sparse_seg_file_name"] = _index(root, sparse_ext)
    if dense_root is not None:
        root = _require_dir(Path(dense_root), f"a folder of *{label_ext} dense label files")
        labels["sem_seg_file_name"] = _index(root, label_ext)

    if split_file is not None:
        split_path = Path(split_file)
        if not split_path.is_file():
            raise DatasetLayoutError(f"{split_path}: split file not found; expected one image key per line")
        keys = [line.split()[0] for line in split_path.read_text().splitlines() if line.strip()]
        for field, index in [("file_name", images)] + list(labels.items()):
            missing = [k for k in keys if k not in index]
            if missing:
                raise DatasetLayoutError(
                    f"{len(missing)} of {len(keys)} entries of {split_path} have no {field} file, "
                    f"e.g. {missing[:3]}")
    else:
        keys = [k for k in images if all(k in index for index in labels.values())]
        if len(keys) < len(images):
            logger.warning("%d of %d images under %s have no label file and are skipped",
                           len(images) - len(keys), len(images), image_root)
    if not keys:
        raise DatasetLayoutError(f"{image_root}: no *{image_ext} image found with its label files")

    dicts = []
    for key in keys:
        with Image.open(images[key]) as im:
            width, height = im.size
        record = {"file_name": str(images[key]), "image_id": key, "height": height, "width": width}
        for field, index in labels.items():
            record[field] = str(index[key])
        if "sparse_seg_file_name" in record:
            record["sparse_unlabeled_value"] = unlabeled_value
        dicts.append(record)
    return dicts


def register_sparse_sem_seg(name: str, image_root, sparse_root=None, dense_root=None, *,
                            classes: Sequence[str], colors=None, unlabeled_value: int = 255,
                            ignore_label: int = 255, image_ext: str = ".jpg",
                            label_ext: str = ".png", sparse_ext: Optional[str] = None,
                            split_file=None, **metadata) -> None:
    """Register ``name`` in detectron2's DatasetCatalog and MetadataCatalog.

    Nothing is read until the dataset is used. Registering an existing name replaces it.

    Args:
        unlabeled_value: the value that marks "not annotated" in the sparse label files
            (255 in most releases; some use K). The training mapper turns it into 255.
        ignore_label: the void value of the dense labels, ignored by the evaluator.
        metadata: further metadata, e.g. ``evaluation_sliding_window``.
    """
    if sparse_root is None and dense_root is None:
        raise ValueError(f"register_sparse_sem_seg({name!r}): give sparse_root, dense_root or both")
    if name in DatasetCatalog.list():
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    DatasetCatalog.register(
        name,
        lambda: load_sparse_sem_seg(image_root, sparse_root, dense_root, image_ext=image_ext,
                                    label_ext=label_ext, sparse_ext=sparse_ext,
                                    split_file=split_file, unlabeled_value=unlabeled_value))
    classes = list(classes)
    MetadataCatalog.get(name).set(
        stuff_classes=classes,
        stuff_colors=[list(c) for c in colors] if colors is not None else default_colors(len(classes)),
        ignore_label=ignore_label,
        unlabeled_value=unlabeled_value,
        evaluator_type="sem_seg",
        image_root=str(image_root),
        sem_seg_root=str(dense_root) if dense_root is not None else None,
        sparse_seg_root=str(sparse_root) if sparse_root is not None else None,
        **metadata,
    )
