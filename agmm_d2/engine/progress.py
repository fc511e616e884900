"""What a notebook user sees while a run goes on: progress bars in this process, or the log of a
run in other processes, followed as it is written."""
import sys
import threading
import time
from pathlib import Path

from detectron2.engine import HookBase
from tqdm import tqdm

__all__ = ["TrainingProgressBar", "follow_log", "with_progress_bar"]

# Seconds between two refreshes: often enough to see progress, rarely enough for a notebook.
_REFRESH = 1.0


class TrainingProgressBar(HookBase):
    """A bar of training iterations with the latest total loss (main process only)."""

    def before_train(self):
        self._bar = tqdm(total=self.trainer.max_iter, initial=self.trainer.start_iter,
                         desc="train", unit="it", mininterval=_REFRESH, file=sys.stdout)

    def after_step(self):
        self._bar.update(1)
        losses = self.trainer.storage.latest()
        if "total_loss" in losses:
            self._bar.set_postfix(loss=f"{losses['total_loss'][0]:.3f}", refresh=False)

    def after_train(self):
        self._bar.close()


class _LoaderWithBar:
    """An evaluation data loader that shows a bar while it is iterated."""

    def __init__(self, loader, desc: str):
        self.loader, self.desc = loader, desc

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        yield from tqdm(self.loader, total=len(self.loader), desc=self.desc, unit="img",
                        mininterval=_REFRESH, file=sys.stdout)


def with_progress_bar(loader, desc: str):
    """``loader`` (with a length) that shows a progress bar when iterated."""
    return _LoaderWithBar(loader, desc)


def follow_log(path, done: threading.Event, out=None) -> None:
    """Print the lines appended to the text file ``path`` until ``done`` is set, then the rest.

    The file may not exist yet; lines already in it when this starts are not printed.
    """
    out = out or sys.stdout
    path = Path(path)
    offset = path.stat().st_size if path.is_file() else 0
    pending = ""
    while True:
        finished = done.is_set()  # read before the file: the last lines are written before it
        if path.is_file():
            with open(path, "r", errors="replace") as f:
                f.seek(offset)
                chunk = f.read()
                offset = f.tell()
            lines = (pending + chunk).split("\n")
            pending = lines.pop()
            if lines:
                out.write("".join(line + "\n" for line in lines))
                out.flush()
        if finished:
            if pending:
                out.write(pending + "\n")
            return
        time.sleep(_REFRESH / 2)
