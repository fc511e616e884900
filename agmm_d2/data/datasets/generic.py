"""Register any folder of images with sparse (and optionally dense) label PNGs.

Files are paired by their path relative to each root with the extension (or suffix) removed:
``<image_root>/a/b.jpg`` pairs with ``<sparse_root>/a/b.png`` and ``<dense_root>/a/b.png``.
"""
import json
import logging
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from detectron2.data import DatasetCatalog, MetadataCatalog
from PIL import Image

from .files import index_folder, left_out_summary, pair_files
from .image_size import loaded_size
from ..label_io import present_classes, read_label

logger = logging.getLogger(__name__)

# Written next to the sparse labels by datasets_prep's generators: {key: [class ids]}.
IMAGE_CLASSES_FILE = "image_classes.json"


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


def read_split_keys(path) -> List[str]:
    """Image keys of a split file: the first word of each non-empty line."""
    path = Path(path)
    if not path.is_file():
        raise DatasetLayoutError(f"{path}: split file not found; expected one image key per line")
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def read_image_classes(path) -> Dict[str, List[int]]:
    """Read an image-level label file: JSON ``{image key: [class ids present in the image]}``."""
    path = Path(path)
    try:
        table = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DatasetLayoutError(f"{path}: cannot read image-level labels ({e}); expected JSON "
                                 "{\"<image key>\": [class ids], ...}") from e
    if not isinstance(table, dict) or not all(
            isinstance(v, list) and all(isinstance(i, int) and i >= 0 for i in v)
            for v in table.values()):
        raise DatasetLayoutError(f"{path}: expected a JSON object mapping each image key to a list "
                                 "of non-negative class ids")
    return {str(k): sorted(set(v)) for k, v in table.items()}


def _image_classes_table(image_classes, sparse_root, keys, dense_index, ignore_label) -> Optional[Dict[str, List[int]]]:
    """Resolve the ``image_classes`` argument of ``load_sparse_sem_seg`` to a table or None."""
    if image_classes is None:
        return None
    if isinstance(image_classes, dict):
        return {str(k): sorted(set(int(i) for i in v)) for k, v in image_classes.items()}
    if image_classes == "auto":
        found = Path(sparse_root) / IMAGE_CLASSES_FILE if sparse_root is not None else None
        return read_image_classes(found) if found is not None and found.is_file() else None
    if image_classes == "dense":
        if dense_index is None:
            raise ValueError("image_classes='dense' needs a dense_root")
        return {k: present_classes(read_label(dense_index[k]), (ignore_label,)) for k in keys}
    return read_image_classes(image_classes)


def load_sparse_sem_seg(image_root, sparse_root=None, dense_root=None, *, image_ext=".jpg",
                        label_ext=".png", sparse_ext: Optional[str] = None,
                        split_file=None, unlabeled_value: int = 255,
                        image_classes: Union[str, Path, dict, None] = "auto",
                        ignore_label: int = 255) -> List[dict]:
    """Dataset dicts for images paired with sparse and/or dense labels.

    Returns detectron2 dicts with ``file_name``, ``image_id``, ``height``, ``width``, and
    ``sparse_seg_file_name`` / ``sem_seg_file_name`` for the roots that are given. With a
    sparse root, each dict also carries ``sparse_unlabeled_value`` (the value that marks "not
    annotated" in its sparse file), so the training mapper needs no MetadataCatalog lookup.

    With ``split_file`` (one key per line), exactly those images are used and a missing file is
    an error. Without it, images are paired by key and images lacking a label are skipped.

    ``image_classes`` gives each dict the image's complete image-level label, ``image_classes``
    (sorted class ids present anywhere in the image), which ``MODEL.AGMM.ABSENT_FROM
    "image_classes"`` feeds to the absent-class term:

    - ``"auto"`` (default): read ``<sparse_root>/image_classes.json`` if it exists (the click
      and scribble generators of datasets_prep write it from the dense source); else none;
    - ``"dense"``: the classes of each image's dense label (``ignore_label`` excluded);
    - a path to such a JSON file ``{key: [class ids]}``, or that dict itself;
    - None: no image-level labels;
    - a function of no argument returning one of the above, called when the dataset is loaded
      (so that a registration reads no file before the dataset is used).
    An image missing from the table is an error: a partial table would silently mix sources.
    """
    image_root = Path(image_root)
    indexes = _dataset_indexes(image_root, sparse_root, dense_root, image_ext=image_ext,
                               label_ext=label_ext, sparse_ext=sparse_ext or label_ext)
    images, labels = indexes[0].files, {f: index.files for f, index in indexes[1].items()}

    if split_file is not None:
        split_path = Path(split_file)
        keys = read_split_keys(split_path)
        for field, index in [("file_name", images)] + list(labels.items()):
            missing = [k for k in keys if k not in index]
            if missing:
                raise DatasetLayoutError(
                    f"{len(missing)} of {len(keys)} entries of {split_path} have no {field} file, "
                    f"e.g. {missing[:3]}")
    else:
        keys, left_out = pair_files(*indexes)
        if left_out:
            logger.warning("%s", left_out_summary(f"dataset under {image_root}", len(keys),
                                                  left_out))
    if not keys:
        raise DatasetLayoutError(f"{image_root}: no *{image_ext} image found with its label files")

    if callable(image_classes):
        image_classes = image_classes()
    table = _image_classes_table(image_classes, sparse_root, keys,
                                 labels.get("sem_seg_file_name"), ignore_label)
    if table is not None:
        missing = [k for k in keys if k not in table]
        if missing:
            raise DatasetLayoutError(
                f"image-level labels ({image_classes if isinstance(image_classes, (str, Path)) else 'given'}) "
                f"lack {len(missing)} of {len(keys)} images, e.g. {missing[:3]}")

    dicts = []
    for key in keys:
        record = {"file_name": str(images[key]), "image_id": key}
        try:
            with Image.open(images[key]) as im:
                record["width"], record["height"] = loaded_size(im)  # after EXIF orientation
        except Exception:  # PIL raises several types; the data scan reports the file
            pass
        for field, index in labels.items():
            record[field] = str(index[key])
        if "sparse_seg_file_name" in record:
            record["sparse_unlabeled_value"] = unlabeled_value
        if table is not None:
            record["image_classes"] = table[key]
        dicts.append(record)
    return dicts


def register_sparse_sem_seg(name: str, image_root, sparse_root=None, dense_root=None, *,
                            classes: Sequence[str], colors=None, unlabeled_value: int = 255,
                            ignore_label: int = 255, image_ext: str = ".jpg",
                            label_ext: str = ".png", sparse_ext: Optional[str] = None,
                            split_file=None, image_classes="auto", **metadata) -> None:
    """Register ``name`` in detectron2's DatasetCatalog and MetadataCatalog.

    Nothing is read until the dataset is used. Registering an existing name replaces it.

    Args:
        unlabeled_value: the value that marks "not annotated" in the sparse label files
            (255 in most releases; some use K). The training mapper turns it into 255.
        ignore_label: the void value of the dense labels, ignored by the evaluator.
        image_classes: complete image-level labels; see ``load_sparse_sem_seg``.
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
                                    split_file=split_file, unlabeled_value=unlabeled_value,
                                    image_classes=image_classes, ignore_label=ignore_label))
    classes = list(classes)
    MetadataCatalog.get(name).set(
        stuff_classes=classes,
        stuff_colors=[list(c) for c in colors] if colors is not None else default_colors(len(classes)),
        ignore_label=ignore_label,
        unlabeled_value=unlabeled_value,
        image_root=str(image_root),
        sem_seg_root=str(dense_root) if dense_root is not None else None,
        sparse_seg_root=str(sparse_root) if sparse_root is not None else None,
        # How files are paired, for left_out_files (the scan, datasets_prep/check_dataset.py).
        image_ext=image_ext if isinstance(image_ext, str) else list(image_ext),
        label_ext=label_ext, sparse_ext=sparse_ext or label_ext,
        split_file=str(split_file) if split_file is not None else None,
        # Without dense labels, evaluation counts the annotated pixels (SparseSemSegEvaluator).
        **{"evaluator_type": "sem_seg" if dense_root is not None else "sparse_sem_seg",
           **metadata},
    )


def _dataset_indexes(image_root, sparse_root, dense_root, *, image_ext, label_ext, sparse_ext):
    """The FolderIndex of the images and {field: FolderIndex} of the label folders given."""
    images = index_folder(_require_dir(Path(image_root), f"a folder of *{image_ext} images"),
                          image_ext, report_other_suffixes=True)
    labels = {}
    for field, root, ext, what in (("sparse_seg_file_name", sparse_root, sparse_ext, "sparse"),
                                   ("sem_seg_file_name", dense_root, label_ext, "dense")):
        if root is not None:
            labels[field] = index_folder(
                _require_dir(Path(root), f"a folder of *{ext} {what} label files"), ext)
    return images, labels


def left_out_files(metadata) -> List[Tuple[str, str, str]]:
    """The files under a dataset's folders that its registration leaves out, as (kind, path,
    reason) (``agmm_d2.data.datasets.files``): images without a label, labels without an image,
    images of another suffix, hidden files. [] with a split file (the split chooses) and for
    datasets not registered by ``register_sparse_sem_seg``. ``metadata``: the MetadataCatalog
    entry."""
    meta = metadata.as_dict() if hasattr(metadata, "as_dict") else dict(metadata)
    if meta.get("split_file") or "image_ext" not in meta:
        return []
    try:
        indexes = _dataset_indexes(meta["image_root"], meta.get("sparse_seg_root"),
                                   meta.get("sem_seg_root"), image_ext=meta["image_ext"],
                                   label_ext=meta["label_ext"], sparse_ext=meta["sparse_ext"])
    except DatasetLayoutError:
        return []  # the registration reports the missing folder itself
    return pair_files(*indexes)[1]

