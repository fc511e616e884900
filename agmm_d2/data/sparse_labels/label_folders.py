"""Folders of label PNGs: reading them by key, writing them atomically, image-level labels."""
import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from ...utils.atomic import atomic_write
from ..datasets.files import index_folder
from ..datasets.generic import IMAGE_CLASSES_FILE, default_colors
from ..label_io import present_classes, read_label

__all__ = ["dense_files", "image_size", "link_alias", "parse_ignore", "per_file_rng",
           "sparsify_folder", "write_image_classes", "write_label_png"]

VOC_PALETTE = np.array(default_colors(256), np.uint8).ravel().tolist()


def image_size(path) -> Tuple[int, int]:
    """(height, width) of the image at ``path``, read from its header only."""
    with Image.open(path) as im:
        return im.size[1], im.size[0]


def write_label_png(path, label: np.ndarray, palette: bool = False) -> Path:
    """Write an (H, W) uint8 label as a single-channel PNG, atomically.

    ``palette=True`` writes a VOC-style palette PNG (ids stay the pixel values, colours for
    viewing); otherwise a greyscale PNG.
    """
    image = Image.fromarray(np.asarray(label, np.uint8), mode="L")
    if palette:
        image = image.convert("P")
        image.putpalette(VOC_PALETTE)
    with atomic_write(path) as tmp:
        image.save(tmp, format="PNG")
    return Path(path)


def link_alias(alias, target) -> Path:
    """Make ``alias`` a relative symlink to ``target`` (e.g. ``50clicks -> 50clicks_seed0``)."""
    alias, target = Path(alias), Path(target)
    if alias.exists() and not alias.is_symlink():
        raise FileExistsError(f"{alias} exists and is not a link; remove it to make the alias")
    with atomic_write(alias) as tmp:
        os.symlink(os.path.relpath(target, alias.parent), tmp)
    return alias


def dense_files(dense_dir, suffix: str = ".png") -> List[Tuple[str, Path]]:
    """Sorted [(key, path)] of the label files under ``dense_dir``; key = relative path minus
    suffix. The files a dataset of this folder would hold (``agmm_d2.data.datasets.files``: the
    suffix's case ignored, hidden files left out)."""
    dense_dir = Path(dense_dir)
    if not dense_dir.is_dir():
        raise FileNotFoundError(f"{dense_dir}: not a folder of *{suffix} label files")
    return sorted(index_folder(dense_dir, suffix).files.items())


def write_image_classes(folder, table: Dict[str, Sequence[int]], *,
                        overwrite: bool = True) -> Path:
    """Write ``<folder>/image_classes.json`` (``{key: [class ids]}``, one image a line), atomically.

    This is the file that ``register_sparse_sem_seg(..., image_classes="auto")`` reads next to
    the sparse labels: each image's complete image-level label. ``overwrite=False`` makes an
    existing file an error (FileExistsError).
    """
    lines = [
        f"{json.dumps(str(k))}: {json.dumps([int(i) for i in table[k]])}" for k in sorted(table)
    ]
    path = Path(folder) / IMAGE_CLASSES_FILE
    with atomic_write(path, overwrite=overwrite) as tmp:
        tmp.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    return path


def sparsify_folder(dense_dir, out, make_sparse: Callable[[str, np.ndarray], np.ndarray], *,
                    suffix: str = ".png", ignore: Iterable[int] = (255,),
                    overwrite: bool = False) -> Path:
    """Write ``make_sparse(key, dense)`` for every dense label file of ``dense_dir`` to ``out``.

    ``make_sparse`` gets the file's key and its (H, W) class ids and returns the (H, W) sparse
    label. ``out/image_classes.json`` gets the classes of each dense label, the ``ignore``
    values excluded. The folder is written under a temporary name and renamed when complete.
    """
    files = dense_files(dense_dir, suffix)
    if not files:
        raise FileNotFoundError(f"{dense_dir}: no *{suffix} label file in it or its sub-folders")
    table = {}
    with atomic_write(out, folder=True, overwrite=overwrite) as tmp:
        for key, path in files:
            dense = read_label(path)
            write_label_png(tmp / f"{key}{suffix}", make_sparse(key, dense))
            table[key] = present_classes(dense, ignore)
        write_image_classes(tmp, table)
    return Path(out)


def per_file_rng(seed: int, key: str) -> np.random.Generator:
    """A generator that depends on the seed and the file's key only, not on the file order."""
    digest = hashlib.sha256(key.encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def parse_ignore(values: Optional[str]) -> Tuple[int, ...]:
    """'255,0' -> (255, 0)."""
    return tuple(int(v) for v in values.split(",") if v.strip()) if values else ()
