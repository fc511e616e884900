"""The engine, as detectron2 means it: setup (configs), the checks of a run's inputs, the
Trainer, checkpointing, launch and progress. ``tools/train_net.py`` is argparse and ``launch``
around these. The Python API (``train``, ``evaluate``, ``predict_folder``, ``draw_panels``)
builds on them in ``agmm_d2.api``; the engine imports nothing from it.
"""
from .checks import check_inputs
from .launch import leave_worker_process
from .registration import DatasetSnapshot, run_registrations
from .setup import adapt_to_machine, build_config, setup_console_logging, setup_run
from .trainer import Trainer, train_or_evaluate

__all__ = ["DatasetSnapshot", "Trainer", "adapt_to_machine", "build_config", "check_inputs",
           "leave_worker_process", "run_registrations", "setup_console_logging", "setup_run",
           "train_or_evaluate"]
