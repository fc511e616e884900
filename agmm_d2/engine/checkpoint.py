"""Loading checkpoints with a guard: a file that is not a checkpoint, a checkpoint of another
model, or a missing or truncated last checkpoint is reported, never loaded silently."""
import logging
import os
import re
import zipfile
from pathlib import Path
from typing import List, Optional, Tuple

from detectron2.checkpoint import DetectionCheckpointer

from ..utils.errors import InputError

__all__ = ["CheckpointError", "GuardedCheckpointer", "load_weights", "reinitialised_message",
           "resume_checkpoint"]

logger = logging.getLogger(__name__)

EXPECTED = ("expected a .pth checkpoint saved by this project (detectron2's checkpointer) or "
            "torch.save, or a detectron2 model-zoo .pkl")


class CheckpointError(InputError):
    """A weights file or checkpoint that cannot be read or does not fit the model."""


def _reason(e: Exception) -> str:
    """The first line of ``e``; torch's advice to load unsafely is no reason to give here."""
    text = str(e).strip().splitlines()
    first = text[0][:200] if text else ""
    if "Weights only load failed" in first:
        first = "it is not a torch file of tensors"
    return f"{type(e).__name__}: {first}"


def _checkpoint_files(output_dir: str) -> List[Path]:
    """The ``model_*.pth`` of ``output_dir``, newest first: by iteration, model_final first."""
    def order(p: Path):
        match = re.fullmatch(r"model_(\d+)\.pth", p.name)
        return (p.name == "model_final.pth", int(match.group(1)) if match else -1)

    return sorted(Path(output_dir).glob("model_*.pth"), key=order, reverse=True)


def _readable(path: Path) -> Optional[str]:
    """None if ``path`` looks like a complete checkpoint, else why not. torch.save writes a zip
    archive whose directory is at the end of the file: a truncated file has none."""
    if not path.is_file():
        return "the file does not exist"
    if path.suffix == ".pth" and not zipfile.is_zipfile(path):
        return "the file is not a complete torch checkpoint (truncated or of another kind)"
    return None


def resume_checkpoint(output_dir: str) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint ``--resume`` continues from, and a note when it is not the last one.

    The file named by ``output_dir/last_checkpoint`` if it is readable, else the newest
    readable ``model_*.pth`` (the note says why). (None, None) when there is no
    ``last_checkpoint``. CheckpointError when none is readable.
    """
    marker = Path(output_dir) / "last_checkpoint"
    if not marker.is_file():
        return None, None
    named = Path(output_dir) / marker.read_text().strip()
    problem = _readable(named)
    if problem is None:
        return str(named), None
    for candidate in _checkpoint_files(output_dir):
        if candidate != named and _readable(candidate) is None:
            return str(candidate), (f"{marker} names {named.name}, but {problem}; resuming from "
                                    f"{candidate.name}, the newest readable checkpoint")
    raise CheckpointError(f"--resume: {marker} names {named.name}, but {problem}, and "
                          f"{output_dir} holds no other readable model_*.pth; remove --resume to "
                          "start from MODEL.WEIGHTS")


def reinitialised_message(path: str, incorrect_shapes, loaded: int, total: int) -> str:
    """One line: which tensors of the model kept their initial values because the checkpoint's
    have another shape, and why (a classifier for another number of classes, when it is one).

    Args:
        incorrect_shapes: fvcore's [(key, shape in the checkpoint, shape in the model)].
        loaded, total: tensors of the model loaded from the checkpoint, and all of them.
    """
    parts, counts = [], set()
    for key, in_checkpoint, in_model in incorrect_shapes:
        parts.append(f"{key} {tuple(in_checkpoint)} -> {tuple(in_model)}")
        if key.endswith("predictor.weight") and in_checkpoint[1:] == in_model[1:]:
            counts.add((in_checkpoint[0], in_model[0]))
    if len(counts) == 1 and len(incorrect_shapes) <= 2:
        (old, new), = counts
        why = f"the checkpoint's classifier has {old} classes, this model's {new}"
    else:
        why = "their shapes differ from the checkpoint's"
    return (f"{path}: re-initialised {len(parts)} tensors ({why}): " + ", ".join(parts)
            + f"; {loaded} of the model's {total} tensors were loaded from it")


class GuardedCheckpointer(DetectionCheckpointer):
    """DetectionCheckpointer that reports a file it cannot read as one CheckpointError naming it,
    refuses a checkpoint that matches no parameter of the model, warns loudly when it matches few,
    and resumes from the newest readable checkpoint when the last one is missing or truncated.
    Tensors whose shape differs from the checkpoint's (the classifier of a model trained with
    another number of classes) keep their initial values, reported in one line.

    Args:
        expect_complete: warn when the checkpoint lacks any of the model's tensors (inference,
            resuming); otherwise (initializing from e.g. an ImageNet backbone) only when it
            holds fewer than half of them. Resuming always expects a complete checkpoint.
    """

    def __init__(self, model, save_dir: str = "", *, expect_complete: bool = True, **kwargs):
        super().__init__(model, save_dir, **kwargs)
        self.expect_complete = expect_complete

    def _load_file(self, filename):
        try:
            return super()._load_file(filename)
        except Exception as e:  # torch, pickle and zipfile raise many types for a bad file
            raise CheckpointError(f"{filename}: not a readable checkpoint ({_reason(e)}); "
                                  f"{EXPECTED}") from None

    def _load_model(self, checkpoint):
        if not isinstance(checkpoint.get("model"), dict):
            raise CheckpointError(f"{self._loading}: holds no model state dict; {EXPECTED}")
        incompatible = super()._load_model(checkpoint)
        # BatchNorm's step counters are not weights (fvcore does not report them missing).
        tensors = {k for k in self.model.state_dict() if not k.endswith("num_batches_tracked")}
        total = len(tensors)
        # fvcore lists the tensors it skipped for their shape among the missing ones too.
        missing = len(tensors & set(incompatible.missing_keys))
        reshaped = len(incompatible.incorrect_shapes)
        loaded = total - missing
        self._counts = loaded, total
        if loaded == 0:
            raise CheckpointError(
                f"{self._loading}: none of the model's {total} tensors is in this checkpoint "
                "(is it a checkpoint of this config's model?)")
        if missing and (self.expect_complete or loaded < total / 2):
            logger.warning(
                "%s: only %d of the model's %d tensors were loaded from this checkpoint (%d absent "
                "from it, %d of another shape); the others keep their initial (random) values. "
                "Is it a checkpoint of this config's model?", self._loading, loaded, total,
                missing - reshaped, reshaped)
        return incompatible

    def _log_incompatible_keys(self, incompatible):
        # One line for the tensors skipped for their shape, instead of fvcore's line per tensor
        # ("You might want to double check") and its list of them as missing.
        if incompatible.incorrect_shapes:
            logger.warning(reinitialised_message(self._loading, incompatible.incorrect_shapes,
                                                 *self._counts))
            skipped = {key for key, *_ in incompatible.incorrect_shapes}
            incompatible = incompatible._replace(
                missing_keys=[k for k in incompatible.missing_keys if k not in skipped],
                incorrect_shapes=[])
        super()._log_incompatible_keys(incompatible)

    def load(self, path, checkpointables=None):
        self._loading = path
        return super().load(path, checkpointables)

    def resume_or_load(self, path, *, resume=True):
        if resume and self.has_checkpoint():
            chosen, note = resume_checkpoint(self.save_dir)
            if note:
                logger.warning(note)
            self.expect_complete = True
            return self.load(chosen)
        return self.load(path, checkpointables=[])


def load_weights(model, weights: str, *, expect_complete: bool = True):
    """Load ``weights`` (a file or URL) into ``model`` through GuardedCheckpointer; returns it."""
    if weights and "://" not in weights and not os.path.isfile(weights):
        raise CheckpointError(f"MODEL.WEIGHTS {weights!r}: no such file")
    GuardedCheckpointer(model, expect_complete=expect_complete).load(weights, checkpointables=[])
    return model
