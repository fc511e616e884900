"""The engine: configs, input checks, the Trainer, and the Python API for notebooks and scripts.

``tools/train_net.py`` is argparse and ``launch`` around these; a notebook calls them directly.
"""
from .api import draw_panels, evaluate, predict_folder, resolve_weights, train
from .checks import check_data, check_inputs, check_registered
from .config import adapt_to_machine, build_config
from .errors import InputError
from .launch import leave_worker_process
from .registration import DatasetSnapshot, run_registrations
from .setup import setup_console_logging, setup_run
from .trainer import Trainer, train_or_evaluate

__all__ = ["DatasetSnapshot", "InputError", "Trainer", "adapt_to_machine", "build_config",
           "check_data", "check_inputs", "check_registered", "draw_panels", "evaluate",
           "leave_worker_process", "predict_folder", "resolve_weights", "run_registrations",
           "setup_console_logging", "setup_run", "train", "train_or_evaluate"]
