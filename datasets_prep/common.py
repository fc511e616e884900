"""Helpers shared by the preparation tools: atomic writes, image sizes, label folders."""
import argparse
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterable, Iterator, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

from agmm_d2.data.datasets.generic import IMAGE_CLASSES_FILE, default_colors
from agmm_d2.data.label_io import present_classes, read_label

VOC_PALETTE = np.array(default_colors(256), np.uint8).ravel().tolist()


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose description is the first paragraph of a tool's docstring and
    whose epilog is the rest, shown as written."""
    first, _, rest = doc.partition("\n\n")
    return argparse.ArgumentParser(description=first, epilog=rest or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def image_size(path) -> Tuple[int, int]:
    """(height, width) of the image at ``path``, read from its header only."""
    with Image.open(path) as im:
        return im.size[1], im.size[0]


def write_label_png(path, label: np.ndarray, palette: bool = False) -> Path:
    """Write an (H, W) uint8 label as a single-channel PNG: temp name in the folder, then rename.

    ``palette=True`` writes a VOC-style palette PNG (ids stay the pixel values, colours for
    viewing); otherwise a greyscale PNG.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(np.asarray(label, np.uint8), mode="L")
    if palette:
        image = image.convert("P")
        image.putpalette(VOC_PALETTE)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        image.save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


@contextmanager
def atomic_folder(out: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder next to ``out``; rename it to ``out`` when the block succeeds.

    An interrupted run leaves no half-written ``out``. An existing ``out`` is an error unless
    ``overwrite``.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            shutil.rmtree(out) if out.is_dir() and not out.is_symlink() else out.unlink()
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def link_alias(alias: Path, target: Path) -> Path:
    """Make ``alias`` a relative symlink to ``target`` (e.g. ``50clicks -> 50clicks_seed0``)."""
    alias, target = Path(alias), Path(target)
    if alias.exists() and not alias.is_symlink():
        raise FileExistsError(f"{alias} exists and is not a link; remove it to make the alias")
    tmp = alias.with_name(f".{alias.name}-link")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, alias.parent), tmp)
    os.replace(tmp, alias)
    return alias


def dense_files(dense_dir, suffix: str = ".png"):
    """Sorted [(key, path)] of the label files under ``dense_dir``; key = relative path minus suffix."""
    dense_dir = Path(dense_dir)
    if not dense_dir.is_dir():
        raise FileNotFoundError(f"{dense_dir}: not a folder of *{suffix} label files")
    return [(str(p.relative_to(dense_dir))[: -len(suffix)], p)
            for p in sorted(dense_dir.rglob(f"*{suffix}")) if p.is_file()]


def write_image_classes(folder, table: Dict[str, Sequence[int]]) -> Path:
    """Write ``<folder>/image_classes.json`` (``{key: [class ids]}``, one image a line), atomically.

    This is the file that ``register_sparse_sem_seg(..., image_classes="auto")`` reads next to
    the sparse labels: each image's complete image-level label.
    """
    lines = [f"{json.dumps(str(k))}: {json.dumps([int(i) for i in table[k]])}" for k in sorted(table)]
    return write_text(Path(folder) / IMAGE_CLASSES_FILE, "{\n" + ",\n".join(lines) + "\n}\n")


def sparsify_folder(dense_dir, out: Path, make_sparse, *, suffix: str = ".png",
                    ignore: Iterable[int] = (255,), overwrite: bool = False) -> Path:
    """Write ``make_sparse(key, dense)`` for every dense label file of ``dense_dir`` to ``out``.

    ``make_sparse`` gets the file's key and its (H, W) class ids and returns the (H, W) sparse
    label. ``out/image_classes.json`` gets the classes of each dense label, the ``ignore``
    values excluded. The folder is written under a temporary name and renamed when complete.
    """
    table = {}
    with atomic_folder(out, overwrite=overwrite) as tmp:
        for key, path in dense_files(dense_dir, suffix):
            dense = read_label(path)
            write_label_png(tmp / f"{key}{suffix}", make_sparse(key, dense))
            table[key] = present_classes(dense, ignore)
        write_image_classes(tmp, table)
    return out


def per_file_rng(seed: int, key: str) -> np.random.Generator:
    """A generator that depends on the seed and the file's key only, not on the file order."""
    digest = hashlib.sha256(key.encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def parse_ignore(values: Optional[str]):
    """'255,0' -> (255, 0)."""
    return tuple(int(v) for v in values.split(",") if v.strip()) if values else ()
