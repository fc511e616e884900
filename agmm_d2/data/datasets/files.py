"""Which files a dataset holds: the one place that lists a dataset's folders, pairs images with
their labels, and says what it leaves out and why.

A file belongs to a folder's index when its name ends in the folder's suffix (or one of its
suffixes: a tuple, the first listed wins where two files share a key), compared without regard
to case (``.JPG`` and ``.PNG`` files are found with ``image_ext=".jpg"`` / ``".png"``); its key
is its path relative to the folder without that suffix. Every other file is left out
with a reason, and the registration (the training log), the scan before a run and
``datasets_prep/check_dataset.py`` report the counts.
"""
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

__all__ = ["FolderIndex", "LEFT_OUT_REASONS", "index_folder", "left_out_summary", "pair_files",
           "suffix_text"]

# A folder's suffix: one (".jpg"), or several (".jpg", ".png") for a folder of mixed images.
Suffixes = Union[str, Sequence[str]]

# Files that live beside the labels by design, never reported as left out.
COMPANION_FILES = ("image_classes.json",)

# kind -> why the file is not part of the dataset (shown with the file).
LEFT_OUT_REASONS = {
    "missing_label": "no {what} file with the same name: the image is left out",
    "label_without_image": "no {suffix} image with the same name: the label is left out",
    "other_suffix": "does not end in the dataset's image suffix {suffix}: left out (pass the "
                    "right image_ext / --image-ext if it is one of the dataset's images)",
    "hidden_file": "a hidden file (its name starts with '.'): left out",
    "duplicate_name": "has the same name as {other} but for its suffix: left out",
}


@dataclass
class FolderIndex:
    """The files of one folder: ``files`` {key: path}, and ``left_out`` [(kind, path, reason)]."""

    root: Path
    suffix: Suffixes
    files: Dict[str, Path] = field(default_factory=dict)
    left_out: List[Tuple[str, str, str]] = field(default_factory=list)


def _leave_out(index: FolderIndex, kind: str, path: Path, **values) -> None:
    index.left_out.append((kind, str(path), LEFT_OUT_REASONS[kind].format(**values)))


def suffix_text(suffix: Suffixes) -> str:
    """``suffix`` as a message shows it: '.jpg', or '.jpg' or '.png'."""
    return " or ".join(repr(s) for s in ((suffix,) if isinstance(suffix, str) else suffix))


def _matching_suffix(name: str, suffixes: Sequence[str]) -> Optional[int]:
    """The position in ``suffixes`` of the first one that ``name`` ends in, the case ignored."""
    lowered = name.lower()
    return next((i for i, s in enumerate(suffixes) if lowered.endswith(s.lower())), None)


def index_folder(root, suffix: Suffixes, *, report_other_suffixes: bool = False) -> FolderIndex:
    """Index every file under ``root`` (recursively) whose name ends in ``suffix`` (a string or
    a sequence of them, earlier ones first), the case ignored. Hidden files and folders (a name
    starting with '.') are left out and reported, as is a second file whose key differs only in
    its suffix; files with another suffix are reported only with ``report_other_suffixes`` (an
    image folder: a ``.jpeg`` among ``.jpg``; a label folder often holds other files by design)."""
    root = Path(root)
    suffixes = (suffix,) if isinstance(suffix, str) else tuple(suffix)
    index = FolderIndex(root, suffix)
    matched = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(root)
        rank = _matching_suffix(str(relative), suffixes)
        if any(part.startswith(".") for part in relative.parts):
            _leave_out(index, "hidden_file", path)
        elif rank is None:
            if report_other_suffixes and path.name not in COMPANION_FILES:
                _leave_out(index, "other_suffix", path, suffix=suffix_text(suffix))
        else:
            matched.append((rank, str(relative), path))
    for rank, name, path in sorted(matched):
        key = name[: len(name) - len(suffixes[rank])]
        if key in index.files:
            _leave_out(index, "duplicate_name", path, other=index.files[key])
        else:
            index.files[key] = path
    index.files = dict(sorted(index.files.items()))
    return index


def pair_files(images: FolderIndex,
               labels: Dict[str, FolderIndex]) -> Tuple[List[str], List[Tuple[str, str, str]]]:
    """The keys of the images that have every label of ``labels`` ({field: index}), in order,
    and what is left out: the indexes' own left-out files, images lacking a label, labels
    lacking an image. (With a split file, the split chooses the keys instead.)"""
    left_out = list(images.left_out)
    for index in labels.values():
        left_out += index.left_out
    paired = [k for k in images.files if all(k in index.files for index in labels.values())]
    for key, path in images.files.items():
        lacking = [f for f, index in labels.items() if key not in index.files]
        if lacking:
            what = " and ".join(f.replace("_seg_file_name", "") + " label" for f in lacking)
            left_out.append(("missing_label", str(path),
                             LEFT_OUT_REASONS["missing_label"].format(what=what)))
    for index in labels.values():
        for key, path in index.files.items():
            if key not in images.files:
                left_out.append(("label_without_image", str(path),
                                 LEFT_OUT_REASONS["label_without_image"].format(
                                     suffix=suffix_text(images.suffix))))
    return paired, left_out


def left_out_summary(where: str, used: int, left_out: Iterable[Tuple[str, str, str]],
                     examples: int = 3) -> str:
    """One paragraph: how many files of ``where`` were left out, by kind, with examples."""
    left_out = list(left_out)
    counts = Counter(kind for kind, _, _ in left_out)
    lines = [f"{where}: {used} images used, {len(left_out)} file(s) left out ("
             + ", ".join(f"{n} {kind}" for kind, n in counts.most_common()) + "):"]
    lines += [f"  {path}: {reason}" for _, path, reason in left_out[:examples]]
    if len(left_out) > examples:
        lines.append(f"  ... and {len(left_out) - examples} more (datasets_prep/check_dataset.py lists "
                     "them by kind)")
    return "\n".join(lines)
