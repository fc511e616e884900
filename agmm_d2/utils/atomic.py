"""Write a file or a folder through a temporary name next to it, then rename it into place.

A reader never sees a half-written output, and an interrupted writer leaves nothing behind:
an exception (Ctrl-C included) removes the temporary path, and so does SIGTERM (``kill``, a job
scheduler's time limit) inside ``terminate_cleanly``, which the command-line tools run in.
The temporary name is created by the caller's own write (or ``os.mkdir``), so the result gets
the permissions any plain write gives (0666 / 0777 minus the user's umask), not the private
0600 / 0700 of ``tempfile``'s files and folders.
"""
import os
import secrets
import shutil
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_write", "terminate_cleanly"]

# The exit status of a process ended by SIGTERM, as a shell reports it.
SIGTERM_STATUS = 128 + signal.SIGTERM


def _exit_on_sigterm(signum, frame):
    raise SystemExit(SIGTERM_STATUS)


@contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Within the block, SIGTERM raises SystemExit(143) in the main thread instead of ending
    the process at once, so that ``finally`` clauses run (``atomic_write`` removes its temporary
    path). Elsewhere than in the main thread, and after the block, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextmanager
def atomic_write(path, *, folder: bool = False, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` when the block succeeds.

    Args:
        path: the final file or folder; its parent folders are created.
        folder: True makes the temporary path an empty folder to fill; False yields a free name
            (with ``path``'s suffix, so that PIL and OpenCV pick the format) for the block to
            write a file or a link to.
        overwrite: False makes an existing ``path`` an error (``FileExistsError``), checked
            before anything is written.

    An exception in the block removes the temporary path and leaves ``path`` as it was.
    """
    path = Path(path)
    if not overwrite and (path.exists() or path.is_symlink()):
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = path.with_name(f".{path.stem}.{token}.tmp{'' if folder else path.suffix}")
    if folder:
        os.mkdir(tmp)
    try:
        yield tmp
        if not (tmp.exists() or tmp.is_symlink()):
            raise FileNotFoundError(f"{tmp}: the block wrote nothing to replace {path} with")
        if folder and path.is_dir() and not path.is_symlink():
            # A folder cannot be renamed over a non-empty one: move the old one aside first.
            old = path.with_name(f".{path.name}.{token}.old")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)
