"""Faults against writes: atomic (the old file kept on failure), with the permissions of the umask,
and no temporary file left after SIGTERM.

One group of the fault tests (the others: tests/*/test_faults.py; their shared parts:
tests/fault_fixtures.py). The tests drive the command-line tools where they can, so they check what
a user sees: the exit status and the message.
"""
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from agmm_d2.data.synthetic import generate
from tests.fault_fixtures import (
    REPO,
    run_predict,
    run_tool,
    write_png,
)

pytestmark = pytest.mark.usefixtures("scan_cache")


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    from agmm_d2.utils import atomic_write

    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


@pytest.mark.slow
def test_written_files_honour_the_umask(predict, tiny_synthetic, weights, capsys, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "pred"
        status, _ = run_predict(predict, capsys, "--input",
                                tiny_synthetic / "agmm_synthetic" / "images" / "val",
                                "--output", out, "MODEL.WEIGHTS", weights)
        made = run_tool("make_clicks", "--dense",
                        tiny_synthetic / "agmm_synthetic" / "dense" / "train",
                        "--out-root", tmp_path / "prep", "--clicks", 3)
        root = generate(tmp_path / "gen", n_train=2, n_val=1, n_test=0, size=32)
    finally:
        os.umask(old)
    assert status == 0 and made.returncode == 0, made.stderr
    clicks = tmp_path / "prep" / "3clicks_seed0"
    for path in (out / "ids" / "0000.png", clicks / "0000.png", clicks / "image_classes.json",
                 root / "images" / "train" / "0000.png", root / ".complete"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    for folder in (out / "ids", clicks, root):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder


def _terminate_while_writing(command, watch, tmp_path):
    """Start ``command``, SIGTERM it once a temporary path (``.*.tmp*``) appears under
    ``watch``, and return (exit status, what is left under ``watch``)."""
    import signal
    import time

    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(watch.glob(".*.tmp*")) and process.poll() is None:
        assert time.monotonic() < deadline, "no temporary output appeared"
        time.sleep(0.01)
    assert process.poll() is None, "the tool finished before it could be interrupted"
    time.sleep(0.3)  # well inside the write
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    return process.returncode, sorted(p.name for p in watch.iterdir())


def test_sigterm_leaves_no_temporary_file(tmp_path):
    dense = tmp_path / "dense"
    dense.mkdir()
    rng = np.random.default_rng(0)
    for i in range(600):
        write_png(dense / f"{i:04d}.png", rng.integers(0, 6, (96, 96)))
    out_root = tmp_path / "sparse"
    out_root.mkdir()
    status, left = _terminate_while_writing(
        [sys.executable, str(REPO / "datasets_prep" / "make_clicks.py"), "--dense", str(dense),
         "--out-root", str(out_root), "--clicks", "3"], out_root, tmp_path)
    assert status == 143 and left == []  # SystemExit(128 + SIGTERM) after the clean-up
    root = tmp_path / "synthetic"
    root.mkdir()
    status, left = _terminate_while_writing(
        [sys.executable, str(REPO / "datasets_prep" / "make_synthetic.py"), "--root", str(root),
         "--n-train", "3000", "--size", "64"], root, tmp_path)
    assert status == 143 and left == []
