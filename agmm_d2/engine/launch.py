"""Leaving a process that detectron2's ``launch`` started."""
import logging
import multiprocessing
import os
import sys

from detectron2.utils import comm

__all__ = ["leave_worker_process"]


def leave_worker_process() -> None:
    """In a process started by ``launch`` for a multi-process run: wait for every process,
    flush the logs and leave at once. Does nothing in the calling process (a notebook's kernel,
    a one-process run).

    With gloo on the CPU, the normal interpreter teardown of a spawned process sometimes
    aborts ("terminate called without an active exception", SIGABRT) after all the work is
    done, which turns a finished run into a failure; destroying the process group first does
    not prevent it. Everything is written by now, so skip that teardown. Call it only after
    success: an error must propagate with its traceback.
    """
    if comm.get_world_size() > 1 and multiprocessing.parent_process() is not None:
        comm.synchronize()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
