"""The engine, as detectron2 means it: setup (configs), input checks, the Trainer, checkpointing,
launch and progress. ``tools/train_net.py`` is argparse and ``launch`` around these.

The Python API (``train``, ``evaluate``, ``predict_folder``, ``draw_panels``) lives in
``agmm_d2.api``; it is re-exported here on first access, so ``from agmm_d2.engine import train``
keeps working while the engine's own modules import nothing from the API or prediction.
"""
import importlib

from .checks import check_data, check_inputs, check_registered
from .launch import leave_worker_process
from .registration import DatasetSnapshot, run_registrations
from .setup import adapt_to_machine, build_config, setup_console_logging, setup_run
from .trainer import Trainer, train_or_evaluate

_API = ("draw_panels", "evaluate", "predict_folder", "resolve_weights", "train")

__all__ = ["DatasetSnapshot", "Trainer", "adapt_to_machine", "build_config",
           "check_data", "check_inputs", "check_registered", "leave_worker_process",
           "run_registrations", "setup_console_logging", "setup_run", "train_or_evaluate",
           *_API]


def __getattr__(name):
    """The API names, imported from ``agmm_d2.api`` when first asked for (PEP 562)."""
    if name in _API:
        return getattr(importlib.import_module("agmm_d2.api"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
