"""An annotation export + its image folder -> a folder of sparse labels, and its registration.

``import_annotations`` pairs each image of the export with a file of ``image_root``, checks the
sizes, rasterises (``rasterize.py``) and writes ``<key>.png`` (class ids, 255 = not annotated)
mirroring the images' relative names, ``image_classes.json`` (the classes marked in each image)
and ``import.json`` (format, options, counts, warnings), all through one atomic folder write.
``register_annotations`` does that once, again only when the export, the class list, the
options or the image list change, and registers the result with ``register_sparse_sem_seg``.

Image names: the export's name is looked up as a path relative to ``image_root``, then by its
file name alone (unique under ``image_root``); a Label Studio upload's ``<8 hex>-`` prefix and
``?d=`` local-storage paths are understood. An image the export names but the folder lacks is
an error; an image the folder has but the export lacks is left out with a counted warning.
"""
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np
from PIL import Image

from ...utils.atomic import atomic_write
from ...utils.errors import InputError
from ..datasets.image_size import loaded_size
from ..sparse_labels.label_folders import write_image_classes
from .cvat import looks_like_cvat, read_cvat
from .label_studio import looks_like_label_studio, read_label_studio
from .labelme import looks_like_labelme, read_labelme
from .rasterize import RasterOptions, rasterize
from .shapes import ImageShapes, class_ids, read_class_list

__all__ = ["FORMATS", "ImportReport", "detect_format", "image_files", "import_annotations",
           "read_export"]

logger = logging.getLogger(__name__)

# format name -> (reader, recogniser)
FORMATS: Dict[str, Tuple[Callable, Callable]] = {
    "labelme": (read_labelme, looks_like_labelme),
    "cvat": (read_cvat, looks_like_cvat),
    "labelstudio": (read_label_studio, looks_like_label_studio),
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
REPORT_FILE = "import.json"
# Bumped when the rasterisation changes, so that older imports are redone.
IMPORTER_VERSION = 1


@dataclass
class ImportReport:
    """What an import wrote and what it warned about."""

    folder: Path
    format: str
    images: Dict[str, str] = field(default_factory=dict)  # key -> image file
    shapes: Dict[str, int] = field(default_factory=dict)  # kind -> count
    class_pixels: Dict[str, int] = field(default_factory=dict)  # class -> annotated pixels
    warnings: List[str] = field(default_factory=list)
    boxes_skipped: int = 0
    unannotated_images: List[str] = field(default_factory=list)

    def summary(self) -> str:
        shapes = ", ".join(f"{n} {k}" for k, n in sorted(self.shapes.items()))
        text = f"{self.folder}: {len(self.images)} images from a {self.format} export ({shapes})"
        if self.warnings:
            text += f"; {len(self.warnings)} warnings, e.g. {self.warnings[0]}"
        return text


def detect_format(export) -> str:
    """The format of ``export``, recognised from its content; InputError if none fits."""
    export = Path(export)
    if not export.exists():
        raise InputError(f"--export {export}: no such file or folder")
    found = [name for name, (_, looks) in FORMATS.items() if looks(export)]
    if len(found) != 1:
        fits = "none" if not found else found
        raise InputError(f"--export {export}: cannot tell its format ({fits} of {list(FORMATS)} "
                         "fits); pass --format / format=")
    return found[0]


def read_export(export, format: Optional[str] = None,
                exclude=None) -> Tuple[str, List[ImageShapes]]:
    """(format, shapes per image) of ``export``; ``format`` None recognises it. A LabelMe
    folder's files under ``exclude`` (the import's own output folder) are left out."""
    export = Path(export)
    if not export.exists():
        raise InputError(f"--export {export}: no such file or folder")
    format = format or detect_format(export)
    if format not in FORMATS:
        raise InputError(f"--format {format!r}: expected one of {list(FORMATS)}")
    if format != "labelme" and export.is_dir():
        raise InputError(f"--export {export}: a folder; a {format} export is one file")
    if format == "labelme":
        return format, read_labelme(export, exclude)
    return format, FORMATS[format][0](export)


def image_files(image_root: Path, output: Path) -> Dict[str, Path]:
    """{path relative to image_root: file} of every image under it, except under ``output``
    (the import's own folder may lie inside the image folder)."""
    if not image_root.is_dir():
        raise InputError(f"--images {image_root}: not a folder")
    output = Path(output).resolve()
    return {str(p.relative_to(image_root)): p for p in sorted(image_root.rglob("*"))
            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            and output not in p.resolve().parents}


def _candidates(reference: str) -> List[str]:
    """Names under which a Label Studio / CVAT / LabelMe image reference may be stored."""
    parsed = urlparse(reference)
    path = unquote(parse_qs(parsed.query).get("d", [parsed.path])[0])
    name = Path(path).name
    names = [reference, path.lstrip("/"), name]
    upload = re.match(r"^[0-9a-f]{8}-(.+)$", name)  # Label Studio prefixes uploaded files
    return names + ([upload.group(1)] if upload else [])


class _ImageMatcher:
    """Finds the file under ``image_root`` of each image an export names, and remembers which."""

    def __init__(self, files: Dict[str, Path], image_root: Path):
        self.files, self.image_root, self.named = files, image_root, set()
        self.by_name: Dict[str, List[str]] = {}
        for rel in files:
            self.by_name.setdefault(Path(rel).name, []).append(rel)

    def __call__(self, image: ImageShapes) -> str:
        """The matched image's path relative to ``image_root``."""
        if image.image is None:
            raise InputError(f"{image.source}: a task names no image (no data.image); cannot "
                             "pair its shapes with a file")
        for name in _candidates(image.image):
            found = name if name in self.files else (
                self.by_name[name][0] if len(self.by_name.get(name, ())) == 1 else None)
            if found is not None:
                self.named.add(found)
                return found
        raise InputError(f"{image.source}: names image {image.image!r}, which is not under "
                         f"--images {self.image_root} ({len(self.files)} images there)")


def _label(image: ImageShapes, path: Path, ids: Dict[str, int], options: RasterOptions,
           report: "ImportReport") -> Optional[np.ndarray]:
    """The sparse label of one image of the export (None when it marks no pixel), its counts
    and warnings added to ``report``."""
    with Image.open(path) as im:  # as tools and detectron2 show it: EXIF rotation applied
        width, height = loaded_size(im)
    if image.width is not None and (image.width, image.height) != (width, height):
        raise InputError(f"{image.source}: image {image.image} is {image.width}x{image.height} "
                         f"in the export but {path} is {width}x{height}")
    label, warnings, skipped = rasterize(image, ids, options, height, width)
    report.warnings += image.notes + warnings
    report.boxes_skipped += skipped
    for shape in image.shapes:
        report.shapes[shape.kind] = report.shapes.get(shape.kind, 0) + 1
    if (label == 255).all():
        report.warnings.append(f"{image.source}: image {image.image}: no annotated pixel "
                               f"({len(image.shapes)} shapes, {skipped} boxes skipped); left out")
        return None
    return label


def _summarise(report: "ImportReport", export: Path, image_root: Path, images: int,
               files: Dict[str, Path], named: set) -> None:
    """The export-wide warnings; InputError when no image has an annotated pixel."""
    if report.boxes_skipped:
        report.warnings.append(f"--export {export}: {report.boxes_skipped} boxes skipped (a box "
                               "is not a label of its pixels; boxes='fill' / --boxes fill "
                               "fills them)")
    if not report.images:
        raise InputError(f"--export {export}: no image with an annotated pixel ({images} "
                         f"images, shapes {report.shapes})")
    report.unannotated_images = [str(p) for rel, p in files.items() if rel not in named]
    if report.unannotated_images:
        report.warnings.append(
            f"--images {image_root}: {len(report.unannotated_images)} of {len(files)} images "
            f"are not in the export and are left out, e.g. {report.unannotated_images[0]}")


def import_annotations(image_root, export, classes, output, *, format: Optional[str] = None,
                       options: RasterOptions = RasterOptions(),
                       ignore_names: Sequence[str] = ("__ignore__",),
                       stamp: Optional[str] = None) -> ImportReport:
    """Rasterise ``export`` into the folder ``output`` (replaced atomically); see the module
    docstring.

    Args:
        classes: the class names in id order (a list, or a file with one name a line).
        format: "labelme", "cvat" or "labelstudio"; None recognises it from the content.
        options: how shapes become pixels (``RasterOptions``).
        ignore_names: label names painted as "not annotated" instead of a class.
        stamp: kept in ``import.json``, to tell later whether the import is still current.
    """
    image_root, export = Path(image_root), Path(export)
    format, images = read_export(export, format, exclude=output)
    ids = class_ids(read_class_list(classes), ignore_names)
    names = [n for n, i in ids.items() if i != 255]
    files = image_files(image_root, output)
    match = _ImageMatcher(files, image_root)
    report = ImportReport(folder=Path(output), format=format, class_pixels=dict.fromkeys(names, 0))
    table, seen = {}, set()
    with atomic_write(output, folder=True) as tmp:
        for image in images:
            rel = match(image)
            key = str(Path(rel).with_suffix(""))
            if key in seen:
                raise InputError(f"{image.source}: image {rel} is annotated twice in the export")
            seen.add(key)
            label = _label(image, files[rel], ids, options, report)
            if label is None:
                continue
            counts = np.bincount(label.ravel(), minlength=256)
            for class_id, name in enumerate(names):
                report.class_pixels[name] += int(counts[class_id])
            report.images[key] = str(files[rel])
            table[key] = [i for i in range(len(names)) if counts[i]]
            (tmp / key).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(label, mode="L").save(tmp / f"{key}.png")
        _summarise(report, export, image_root, len(images), files, match.named)
        write_image_classes(tmp, table)
        (tmp / REPORT_FILE).write_text(json.dumps({
            "stamp": stamp, "format": format, "export": str(export), "classes": names,
            "options": options.as_dict(), "images": len(report.images), "shapes": report.shapes,
            "boxes_skipped": report.boxes_skipped, "class_pixels": report.class_pixels,
            "warnings": report.warnings}, indent=1))
    for warning in report.warnings[:5]:
        logger.warning("%s", warning)
    if len(report.warnings) > 5:
        logger.warning("... and %d more warnings, listed in %s", len(report.warnings) - 5,
                       Path(output) / REPORT_FILE)
    return report
