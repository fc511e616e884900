"""train_net.py --slurm: submitit's local executor runs a 2-process CPU training, which is
preempted (the signal Slurm sends), requeued with --resume, and finishes from its checkpoint.

What the local executor cannot emulate: several nodes (it runs one; the node rank, the number of
nodes and the master's host name come from its JobEnvironment as they would from Slurm's) and
Slurm's own requeue (its controller restarts the task on the exit status that submitit's requeue
gives). The preemption signal is sent to the task by this test, as Slurm would send it.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agmm_d2.engine.slurm import master_port

pytest.importorskip("submitit", reason="submitit is not installed (the [slurm] extra)")

REPO = Path(__file__).resolve().parents[2]
DEMO = "configs/synthetic/demo.yaml"
TINY = ["SOLVER.IMS_PER_BATCH", 2, "INPUT.CROP.SIZE", "(48, 48)", "DATALOADER.NUM_WORKERS", 0,
        "MODEL.RESNETS.WIDTH_PER_GROUP", 4, "MODEL.RESNETS.RES2_OUT_CHANNELS", 16,
        "MODEL.RESNETS.STEM_OUT_CHANNELS", 8, "DATASETS.TEST", "()"]
MAX_ITER, PERIOD = 20, 5


def _wait_for(condition, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _children(pid: int):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def _kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` (the job's controller, started by this test) and its descendants."""
    for child in _children(pid):
        _kill_tree(child)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_master_port_is_shared_and_changes_per_attempt():
    assert master_port("1234", 0) == master_port("1234", 0) != master_port("1234", 1)
    assert all(20000 <= master_port(str(j), a) < 40000 for j in range(50) for a in range(3))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the task through /proc")
def test_preempted_job_is_requeued_and_resumes_from_its_checkpoint(tiny_synthetic, tmp_path):
    out, jobs = tmp_path / "run", tmp_path / "jobs"
    env = dict(os.environ, DETECTRON2_DATASETS=str(tiny_synthetic), OMP_NUM_THREADS="1")
    with open(tmp_path / "submit.log", "w") as log:
        # The local executor's controller outlives this command and keeps its output open.
        submit = subprocess.run(
            [sys.executable, "tools/train_net.py", "--slurm", "--slurm-local",
             "--slurm-job-dir", str(jobs), "--num-gpus", "2", "--skip-data-check",
             "--config-file", DEMO, *map(str, TINY), "SOLVER.MAX_ITER", str(MAX_ITER),
             "SOLVER.CHECKPOINT_PERIOD", str(PERIOD), "OUTPUT_DIR", str(out)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=300)
    printed = (tmp_path / "submit.log").read_text()
    assert submit.returncode == 0, printed
    controller = int(re.search(r"submitted job (\d+)", printed).group(1))
    try:
        _wait_for(lambda: (out / "last_checkpoint").exists(), 400, "the first checkpoint")
        tasks = _children(controller)
        assert len(tasks) == 1, tasks  # one task per node; it runs launch's 2 processes
        os.kill(tasks[0], signal.SIGUSR2)  # what Slurm sends before preemption or time-out
        _wait_for(lambda: (out / "model_final.pth").exists(), 400, "the requeued run to finish")
        _wait_for(lambda: list(jobs.glob(f"{controller}_0_result.pkl")), 60, "the job's result")
    finally:
        # A failed test leaves no training behind; the pid is checked to still be the
        # controller's, as it may have been given to another process after the job ended.
        cmdline = Path(f"/proc/{controller}/cmdline")
        if cmdline.exists() and b"submitit" in cmdline.read_bytes():
            _kill_tree(controller)

    task_log = "".join(p.read_text() for p in jobs.glob(f"{controller}_0_log.*"))
    assert "this job is preempted" in task_log and "Requeued job" in task_log
    starts = [int(s) for s in re.findall(r"Starting training from iteration (\d+)",
                                         (out / "log.txt").read_text())]
    assert starts[0] == 0 and len(starts) == 2 and starts[1] >= PERIOD, starts
    assert starts[1] % PERIOD == 0  # from a periodic checkpoint, not from scratch
    iterations = [json.loads(line).get("iteration") for line in
                  (out / "metrics.json").read_text().splitlines()]
    assert max(i for i in iterations if i is not None) == MAX_ITER - 1
