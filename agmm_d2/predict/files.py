"""Finding input images, naming and writing prediction PNGs: shared by every prediction backend.

Imports neither detectron2 nor the model code (the exported-model runner uses it).
"""
import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Tuple

import numpy as np
from PIL import Image, ImageOps

from ..utils.atomic import atomic_write
from ..utils.errors import InputError

__all__ = ["PredictionReport", "check_output_folder", "find_images", "output_names", "read_image",
           "save_png"]


def find_images(inputs: Iterable[str]) -> List[Tuple[Path, Path]]:
    """(file, path relative to its input) for every file named by ``inputs``: folders (searched
    recursively), files, or globs. Raises InputError for an input that names nothing."""
    found = []
    for spec in inputs:
        path = Path(spec)
        if path.is_dir():
            files = [(p, p.relative_to(path)) for p in sorted(path.rglob("*")) if p.is_file()]
            if not files:
                raise InputError(f"--input {spec!r}: the folder holds no file")
            found += files
        elif path.is_file():
            found.append((path, Path(path.name)))
        else:
            matches = [Path(p) for p in sorted(glob.glob(spec, recursive=True))]
            matches = [p for p in matches if p.is_file()]
            if not matches:
                raise InputError(f"--input {spec!r}: no such file, folder or matching glob")
            found += [(p, Path(p.name)) for p in matches]
    return found


def output_names(files: List[Tuple[Path, Path]]) -> List[Path]:
    """The output name (``<rel>.png``) of each input; inputs that share a stem keep their
    extension (``x.jpg.png``, ``x.png.png``). Two inputs with the same relative name (from two
    ``--input`` folders) are refused with both paths, as is a file given twice."""
    plain = [rel.with_suffix(".png") for _, rel in files]
    counts = {}
    for name in plain:
        counts[name] = counts.get(name, 0) + 1
    names = [rel.with_name(rel.name + ".png") if counts[p] > 1 else p
             for (_, rel), p in zip(files, plain)]
    first = {}
    for (path, _), name in zip(files, names):
        if name in first:
            raise InputError(f"{first[name]} and {path} would both be written as {name}; "
                             "give them separately, or rename one")
        first[name] = path
    return names


def save_png(array: np.ndarray, path: Path) -> None:
    """Write an (H, W) or (H, W, 3) uint8 array as a PNG, atomically."""
    with atomic_write(path) as tmp:
        Image.fromarray(array).save(tmp)


def check_output_folder(out, overwrite: bool, option: str = "--output") -> None:
    """InputError unless ``out`` can take this run's files without replacing what the run did
    not create: absent or an empty folder, or any folder with ``overwrite``."""
    out = Path(out)
    if (out.exists() or out.is_symlink()) and not out.is_dir():
        raise InputError(f"{option} {out}: exists and is not a folder")
    if out.is_dir() and not overwrite and any(out.iterdir()):
        raise InputError(f"{option} {out}: the folder is not empty; pass --overwrite to write "
                         "into it (files of the same name are replaced)")


def read_image(path, fmt: str) -> np.ndarray:
    """(H, W, 3) uint8 image in ``fmt`` ("RGB" or "BGR"), upright per its EXIF orientation: what
    detectron2's ``read_image`` gives, without detectron2."""
    with Image.open(path) as image:
        rgb = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1]) if fmt == "BGR" else rgb


@dataclass
class PredictionReport:
    """What ``predict_folder`` did: the files written, and the inputs skipped with the reason."""

    written: List[Path] = field(default_factory=list)
    skipped: List[Tuple[Path, str]] = field(default_factory=list)
