"""PASCAL VOC 2012 with point, scribble or dense training labels, and its dense val split.

Layout under ``root`` (usually ``$DETECTRON2_DATASETS/VOC2012``)::

    JPEGImages/<id>.jpg
    Annotations/<id>.xml              VOC object annotations (image-level labels, see below)
    SegmentationClass/<id>.png        VOC dense labels (palette PNG: ids 0..20, 255 = void)
    SegmentationClassAug/<id>.png     dense labels of train_aug (datasets_prep/voc_train_aug.py)
    point/<id>.png                    clicks as small disks (datasets_prep/voc_points.py)
    scribble/<id>.png                 3-px scribbles (datasets_prep/voc_scribbles.py)
    ImageSets/Segmentation/{train_aug,val}.txt   one image id per line

The training sets carry complete image-level labels (``image_classes``, for
``MODEL.AGMM.ABSENT_FROM image_classes``), found when the dataset is loaded, in this order:

1. ``<label folder>/image_classes.json`` (``point/``, ``scribble/``, ...), if it exists;
2. the dense labels of the split, when every image of the split has one: their classes, 255
   excluded, read from ``<dense folder>/image_classes.json`` if it exists (voc_train_aug.py and
   datasets_prep/image_classes.py write it), else from the PNGs (about 2 s per thousand
   images, at every load);
3. the ``Annotations/<id>.xml`` files, when every image of the split has one: the class of every
   <object>, plus background (0) always, which the XML never lists but which is present in
   practically every VOC image;
4. none: a model with ``ABSENT_FROM image_classes`` then stops with an error.
"""
import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List, Optional

from ..label_io import present_classes, read_label
from .generic import (IMAGE_CLASSES_FILE, DatasetLayoutError, default_colors, read_split_keys,
                      register_sparse_sem_seg)

logger = logging.getLogger(__name__)

VOC_CLASSES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
               "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor"]
VOC_COLORS = default_colors(len(VOC_CLASSES))  # the VOC colour map
VOC_DIRNAME = "VOC2012"
# Sparse label folder of each training kind; "full" trains on the dense labels.
_SPARSE_FOLDERS = {"point": "point", "scribble": "scribble", "full": None}
# Where the image-level labels of a training set may come from (module docstring).
IMAGE_CLASS_SOURCES = ("auto", "dense", "xml")


def _dense_folder(split: str) -> str:
    return "SegmentationClassAug" if split == "train_aug" else "SegmentationClass"


def _split_file(root: Path, split: str) -> Path:
    return root / "ImageSets" / "Segmentation" / f"{split}.txt"


def voc_xml_classes(path) -> List[int]:
    """Sorted class ids of a VOC ``Annotations/<id>.xml``: 0 and each <object>'s <name>.

    Background (0) is always included: the XML lists objects only, and background is present
    in practically every VOC image. Object parts (<part><name>head</name>) are not objects.
    """
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise DatasetLayoutError(f"{path}: cannot read VOC annotation XML ({e})") from e
    ids = {0}
    for element in root.findall("object/name"):
        name = (element.text or "").strip().lower()
        if name not in VOC_CLASSES[1:]:
            raise DatasetLayoutError(f"{path}: unknown class name {element.text!r} in "
                                     f"<object><name>; expected one of {VOC_CLASSES[1:]}")
        ids.add(VOC_CLASSES.index(name))
    return sorted(ids)


def _all_exist(folder: Path, ids: List[str], ext: str) -> bool:
    return folder.is_dir() and all((folder / f"{i}{ext}").is_file() for i in ids)


def voc_image_classes(root, split: str = "train_aug", source: str = "auto"):
    """Image-level labels of the images of ``split``, for ``load_sparse_sem_seg``.

    ``source`` "dense": from the split's dense labels (their ``image_classes.json`` if present,
    else the PNGs; 255 excluded); "xml": from ``Annotations/<id>.xml`` (``voc_xml_classes``);
    "auto": dense if every image of the split has a dense label, else XML if every image has
    an XML file, else None.

    Returns a path to a JSON file, a dict {id: [class ids]}, or None.
    """
    if source not in IMAGE_CLASS_SOURCES:
        raise ValueError(f"voc_image_classes: source={source!r}; expected one of {IMAGE_CLASS_SOURCES}")
    root = Path(root)
    ids = read_split_keys(_split_file(root, split))
    dense, xml = root / _dense_folder(split), root / "Annotations"
    if source == "auto":
        source = ("dense" if _all_exist(dense, ids, ".png") else
                  "xml" if _all_exist(xml, ids, ".xml") else None)
        if source is None:
            logger.warning("%s: no image-level labels for split %s (no %s, no complete %s/ or "
                           "Annotations/)", root, split, IMAGE_CLASSES_FILE, dense.name)
            return None
    if source == "dense":
        cached = dense / IMAGE_CLASSES_FILE
        if cached.is_file():
            return cached
        missing = [i for i in ids if not (dense / f"{i}.png").is_file()]
        if missing:
            raise DatasetLayoutError(f"{dense}: {len(missing)} of {len(ids)} images of {split} "
                                     f"have no dense label, e.g. {missing[:3]}")
        logger.info("Reading image-level labels of %d images from %s; run "
                    "datasets_prep/image_classes.py --dense %s to cache them", len(ids), dense, dense)
        return {i: present_classes(read_label(dense / f"{i}.png"), (255,)) for i in ids}
    missing = [i for i in ids if not (xml / f"{i}.xml").is_file()]
    if missing:
        raise DatasetLayoutError(f"{xml}: {len(missing)} of {len(ids)} images of {split} have no "
                                 f"annotation XML, e.g. {missing[:3]}")
    return {i: voc_xml_classes(xml / f"{i}.xml") for i in ids}


def _training_image_classes(root: Path, split: str, label_folder: Path, image_classes):
    """Resolve ``register_voc_sparse``'s ``image_classes`` when the dataset is loaded."""
    if image_classes == "auto" and (label_folder / IMAGE_CLASSES_FILE).is_file():
        return label_folder / IMAGE_CLASSES_FILE
    if isinstance(image_classes, str) and image_classes in IMAGE_CLASS_SOURCES:
        return voc_image_classes(root, split, image_classes)
    return image_classes  # a JSON path, a dict or None: load_sparse_sem_seg reads it


def register_voc_sparse(name: str, root, kind: Optional[str] = "point", split: str = "train_aug",
                        unlabeled_value: int = 255, image_classes="auto") -> None:
    """Register ``name``: VOC 2012 images of ``split`` with ``kind`` labels.

    Args:
        root: the VOC2012 folder (layout in this module's docstring).
        kind: "point", "scribble", "full" (dense labels as training labels), or None for an
            evaluation split with dense labels only.
        split: a list in ``ImageSets/Segmentation`` ("train_aug", "train", "val").
        unlabeled_value: "not annotated" in the sparse files (some released copies use 21).
        image_classes: image-level labels of a training kind: "auto" (the order in this
            module's docstring), "dense", "xml", a JSON path, a dict, or None. Resolved when
            the dataset is loaded; an evaluation split (kind None) has none.
    """
    if kind not in _SPARSE_FOLDERS and kind is not None:
        raise ValueError(f"register_voc_sparse({name!r}): kind={kind!r}; expected one of "
                         f"{sorted(_SPARSE_FOLDERS)} or None")
    root = Path(root)
    dense = root / _dense_folder(split)
    sparse = None
    if kind is not None:
        sparse = dense if _SPARSE_FOLDERS[kind] is None else root / _SPARSE_FOLDERS[kind]
    if kind is not None and image_classes is not None:
        given = image_classes
        # Resolved when the dataset is loaded (it may mean reading files), not at registration.
        image_classes = lambda: _training_image_classes(root, split, sparse, given)  # noqa: E731
    else:
        image_classes = None
    register_sparse_sem_seg(
        name, root / "JPEGImages", sparse, dense if kind in (None, "full") else None,
        classes=VOC_CLASSES, colors=VOC_COLORS, unlabeled_value=unlabeled_value,
        ignore_label=255, image_ext=".jpg", label_ext=".png",
        split_file=_split_file(root, split), image_classes=image_classes)


def register_all_voc(datasets_root) -> None:
    """``voc_2012_train_{points,scribbles,dense}`` (train_aug) and ``voc_2012_val_dense`` (not
    ``voc_2012_val``: detectron2 registers that name for its VOC detection set)."""
    root = Path(datasets_root) / VOC_DIRNAME
    for labels, kind in (("points", "point"), ("scribbles", "scribble"), ("dense", "full")):
        register_voc_sparse(f"voc_2012_train_{labels}", root, kind=kind, split="train_aug")
    register_voc_sparse("voc_2012_val_dense", root, kind=None, split="val")
