"""The start of every run, in every process: logging, environment, seeds, the adapted config."""
import argparse
import logging
import sys
from typing import Optional

from detectron2.engine import default_setup
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from .config import adapt_to_machine

__all__ = ["setup_console_logging", "setup_run"]

logger = logging.getLogger(__name__)

# The loggers whose messages reach the console and OUTPUT_DIR/log.txt of a run.
RUN_LOGGERS = ("fvcore", "detectron2", "agmm_d2")


def _forget_earlier_runs() -> None:
    """Remove the handlers of an earlier run in this process (a notebook trains several times),
    so that its log file stops receiving this run's messages and the console shows each once."""
    for name in RUN_LOGGERS:
        logging.getLogger(name).handlers.clear()
    setup_logger.cache_clear()


def setup_console_logging(level: int = logging.WARNING) -> None:
    """Messages of ``level`` and above of the run loggers to stderr, for a tool that runs no
    training (predict.py, visualize.py): e.g. a checkpoint that fits the model only in part."""
    _forget_earlier_runs()
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))
    for name in RUN_LOGGERS:
        logger_ = logging.getLogger(name)
        logger_.setLevel(level)
        logger_.propagate = False
        logger_.addHandler(handler)


def setup_run(cfg, args: Optional[argparse.Namespace] = None):
    """Set up a run of ``cfg`` in this process and return the config adapted to this machine.

    detectron2's ``default_setup`` (its logger and fvcore's, environment and config logged,
    ``OUTPUT_DIR/config.yaml`` written, seeds set per rank), then the ``agmm_d2`` logger with the
    same console and ``OUTPUT_DIR/log.txt`` (``log.txt.rankN`` in the other processes), then
    ``adapt_to_machine``, whose changes are logged.
    """
    _forget_earlier_runs()
    default_setup(cfg, args if args is not None else argparse.Namespace(config_file=""))
    setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="agmm_d2",
                 abbrev_name="agmm")
    cfg, notes = adapt_to_machine(cfg)
    for note in notes:
        logger.warning(note)
    return cfg
