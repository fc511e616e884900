"""Write image_classes.json, the complete image-level labels, from dense labels or VOC XML.

The file is a JSON object ``{image key: [class ids present in the image]}``, the key being the
label's path relative to its folder without the suffix (the key datasets are paired by). A
registration reads it next to the sparse labels (``image_classes="auto"``, the default), and
``MODEL.AGMM.ABSENT_FROM image_classes`` uses it. The click and scribble generators and
voc_train_aug.py write it themselves; this tool is for folders made otherwise, e.g. a
downloaded ``SegmentationClassAug`` (the VOC training sets then read its JSON instead of
every PNG at each load), or VOC point labels without dense ones (from ``Annotations/*.xml``:
each <object>'s class, plus background, present in practically every VOC image).

The command: ``datasets_prep/image_classes.py`` (``agmm_d2.cli.image_classes``).
"""
from pathlib import Path
from typing import Dict, List, Sequence

from agmm_d2.data.datasets.voc import voc_xml_classes
from agmm_d2.data.label_io import present_classes, read_label

from .label_folders import dense_files


def dense_image_classes(dense_dir, ignore: Sequence[int] = (255,),
                        suffix: str = ".png") -> Dict[str, List[int]]:
    """{key: classes} of every ``*<suffix>`` label under ``dense_dir``, ``ignore`` values
    excluded."""
    files = dense_files(dense_dir, suffix)
    if not files:
        raise FileNotFoundError(f"{dense_dir}: no *{suffix} label file in it or its sub-folders")
    return {key: present_classes(read_label(path), ignore) for key, path in files}


def xml_image_classes(xml_dir) -> Dict[str, List[int]]:
    """{id: classes} of every VOC ``<xml_dir>/<id>.xml``: background and each object's class."""
    files = sorted(Path(xml_dir).glob("*.xml"))
    if not files:
        raise FileNotFoundError(f"{xml_dir}: no *.xml file; expected VOC's Annotations/ folder")
    return {path.stem: voc_xml_classes(path) for path in files}
