"""Submitting a training run to a Slurm cluster with submitit, as detrex and CutLER do.

One Slurm task per node. Each task reads its node's rank, the number of nodes and the first
node's host name from Slurm's environment (``submitit.JobEnvironment``), and runs the same
``main`` as ``tools/train_net.py`` through detectron2's ``launch``, which starts one process per
GPU of the node. When Slurm preempts the job or its time runs out, Slurm signals the tasks;
submitit calls ``SlurmTrainingTask.checkpoint``, which stops this node's training processes and
requeues the job with ``--resume``: the new run continues from ``last_checkpoint`` in
OUTPUT_DIR (the iterations since the last periodic checkpoint, SOLVER.CHECKPOINT_PERIOD, are
done again).
"""
import argparse
import copy
import hashlib
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Callable

import cloudpickle
from detectron2.engine import launch

from ..utils.errors import InputError

__all__ = ["SlurmTrainingTask", "master_port", "submit_training"]

INSTALL_HINT = 'pip install -e ".[slurm]"'


def master_port(job_id: str, attempt: int) -> int:
    """A port in [20000, 40000) that every node of the job computes alike; a new one per
    attempt, so that a requeued run never waits for the previous run's socket."""
    digest = int(hashlib.sha1(str(job_id).encode()).hexdigest(), 16)
    return 20000 + (digest + attempt) % 20000


class _Worker:
    """``main`` for detectron2's ``launch``: pickled by value (a script's ``main`` cannot be
    imported by name in the spawned processes), and deaf to the preemption signal, which the
    task's own process handles by stopping the workers and requeueing."""

    def __init__(self, main: Callable):
        self.main = main

    def __getstate__(self):
        return cloudpickle.dumps(self.main)

    def __setstate__(self, state):
        self.main = cloudpickle.loads(state)

    def __call__(self, args):
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)  # submitit's default preemption signal
        return self.main(args)


class SlurmTrainingTask:
    """What each Slurm task runs: ``launch(main, ...)`` with the ranks from Slurm's environment.

    Args:
        main: ``tools/train_net.py``'s ``main(args)`` (submitit pickles it by value).
        args: train_net.py's parsed arguments.
        attempt: 0 for the first run, +1 per requeue.
    """

    def __init__(self, main: Callable, args: argparse.Namespace, attempt: int = 0):
        self.main = main
        self.args = args
        self.attempt = attempt

    def __call__(self):
        import submitit

        env = submitit.JobEnvironment()
        args = copy.copy(self.args)
        # A job that Slurm requeued by itself (PreemptMode=REQUEUE, scontrol requeue) runs the
        # first submission again: it resumes too.
        args.resume = args.resume or os.environ.get("SLURM_RESTART_COUNT", "0") != "0"
        args.num_machines = env.num_nodes
        args.machine_rank = env.node
        args.dist_url = f"tcp://{env.hostnames[0]}:{master_port(env.job_id, self.attempt)}"
        launch(_Worker(self.main), args.num_gpus, num_machines=args.num_machines,
               machine_rank=args.machine_rank, dist_url=args.dist_url, args=(args,))
        return os.path.join(os.getcwd(), "done")

    def checkpoint(self):
        """Called by submitit on preemption or time-out: stop this node's training processes
        and requeue the same run with ``--resume``."""
        import submitit

        for child in multiprocessing.active_children():
            child.terminate()
        args = copy.copy(self.args)
        args.resume = True
        return submitit.helpers.DelayedSubmission(
            SlurmTrainingTask(self.main, args, self.attempt + 1))


def _executor(args: argparse.Namespace):
    try:
        import submitit
    except ImportError:
        raise InputError(f"--slurm needs submitit, which is not installed: {INSTALL_HINT}") \
            from None
    folder = Path(args.slurm_job_dir)
    if args.slurm_local:
        executor = submitit.LocalExecutor(folder=folder)
        # The local executor signals the tasks this long before its time-out.
        executor.update_parameters(timeout_min=args.slurm_timeout_min, signal_delay_s=30)
        return executor
    executor = submitit.AutoExecutor(folder=folder, slurm_max_num_timeout=args.slurm_max_requeues)
    extra = {"mem_gb": args.slurm_mem_gb} if args.slurm_mem_gb else {}
    executor.update_parameters(
        name="agmm_d2", nodes=args.slurm_nodes, tasks_per_node=1, gpus_per_node=args.num_gpus,
        cpus_per_task=args.slurm_cpus_per_gpu * max(args.num_gpus, 1),
        timeout_min=args.slurm_timeout_min, slurm_partition=args.slurm_partition,
        slurm_signal_delay_s=120, **extra)
    return executor


def submit_training(main: Callable, args: argparse.Namespace):
    """Submit ``main(args)`` as a Slurm job (or a local one, ``--slurm-local``); returns the
    submitit Job."""
    if args.slurm_nodes < 1 or args.num_gpus < 1:
        raise InputError(f"--slurm-nodes {args.slurm_nodes} --num-gpus {args.num_gpus}: "
                         "expected 1 or more of each")
    if args.slurm_local and args.slurm_nodes != 1:
        raise InputError("--slurm-local runs one node: leave --slurm-nodes at 1")
    if args.num_machines != 1 or args.machine_rank != 0:
        raise InputError("--slurm sets --num-machines and --machine-rank from Slurm: leave them")
    return _executor(args).submit(SlurmTrainingTask(main, args))
