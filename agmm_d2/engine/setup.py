"""The start of every run: its config (built from a file plus overrides, then adapted to the
machine it runs on), and in every process logging, environment and seeds."""
import argparse
import logging
import os
import sys
from typing import List, Mapping, Optional, Sequence, Tuple, Union

import torch
from detectron2.config import CfgNode, get_cfg
from detectron2.engine import default_setup
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ..config import add_agmm_config, validate_config
from ..config_renames import renamed_config, upgrade_dataset_name
from ..utils.errors import InputError

__all__ = ["adapt_to_machine", "build_config", "setup_console_logging", "setup_run"]

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

    ``adapt_to_machine``, then detectron2's ``default_setup`` (its logger and fvcore's,
    environment and the adapted config logged, ``OUTPUT_DIR/config.yaml`` written, seeds set per
    rank), then the ``agmm_d2`` logger with the same console and ``OUTPUT_DIR/log.txt``
    (``log.txt.rankN`` in the other processes); the machine's changes to the config are logged.
    """
    # Adapted first, so that OUTPUT_DIR/config.yaml is the config the run actually uses.
    cfg, notes = adapt_to_machine(cfg)
    _forget_earlier_runs()
    default_setup(cfg, args if args is not None else argparse.Namespace(config_file=""))
    setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="agmm_d2",
                 abbrev_name="agmm")
    for note in notes:
        logger.warning(note)
    return cfg

Overrides = Union[Sequence, Mapping[str, object]]


def _override_list(opts: Overrides) -> List[str]:
    """``["KEY", value, ...]`` or ``{"KEY": value}`` -> yacs's flat list of strings."""
    items = list(opts.items()) if isinstance(opts, Mapping) else None
    flat = [x for kv in items for x in kv] if items is not None else list(opts)
    if len(flat) % 2:
        raise InputError(f"config overrides must come in KEY VALUE pairs, got {len(flat)} items: "
                         f"{flat}")
    # yacs parses strings with literal_eval; a value given as a Python object is passed as its repr
    # ("('my_train',)", "0.01"), so that the notebook's 100 and the command line's "100" agree.
    return [x if isinstance(x, str) else repr(x) for x in flat]


class _FollowingRenames(CfgNode):
    """detectron2's CfgNode whose YAML loading reads a renamed config of this project from its
    new path (``agmm_d2.config_renames``), the file itself and each ``_BASE_``, with a note."""

    @classmethod
    def load_yaml_with_base(cls, filename, allow_unsafe: bool = False):
        new, note = renamed_config(filename)
        if new is not None:
            logger.warning(note)
            filename = new
        return super().load_yaml_with_base(filename, allow_unsafe=allow_unsafe)


def _upgrade_dataset_names(cfg) -> List[str]:
    """Replace renamed built-in dataset names in DATASETS.TRAIN/TEST (in place); a note each."""
    notes = []
    for split in ("TRAIN", "TEST"):
        names = cfg.DATASETS[split]
        upgraded = [upgrade_dataset_name(name) for name in names]
        notes += [f"DATASETS.{split}: {note}" for _, note in upgraded if note]
        if any(note for _, note in upgraded):
            cfg.DATASETS[split] = type(names)(name for name, _ in upgraded)
    return notes


def build_config(config_file, opts: Overrides = ()) -> CfgNode:
    """The frozen config of ``config_file`` with ``opts`` applied.

    Args:
        config_file: a YAML file of this project (or of your own, with ``_BASE_`` paths relative
            to it).
        opts: overrides, as a flat list ``["SOLVER.MAX_ITER", "100", ...]`` (the command line's
            form) or a dict ``{"SOLVER.MAX_ITER": 100}``.

    Raises InputError (one line) for a missing file, an unknown key or a value of the wrong
    type, or a choice option with a value it does not take (``agmm_d2.config.CHOICES``). Values,
    config files (also in ``_BASE_``) and built-in dataset names that were renamed are replaced
    by their new names, with a warning each (``agmm_d2.config_renames``).
    """
    new, note = renamed_config(config_file)
    if new is not None:
        logger.warning(note)
        config_file = new
    if not os.path.isfile(config_file):
        raise InputError(f"--config-file {str(config_file)!r}: no such file")
    defaults = get_cfg()
    add_agmm_config(defaults)
    cfg = _FollowingRenames(defaults)
    try:
        cfg.merge_from_file(str(config_file))
        cfg.merge_from_list(_override_list(opts))
    except (KeyError, AssertionError, ValueError) as e:  # yacs: unknown key, odd list, bad type
        raise InputError(f"{config_file} + overrides: {e.args[0]}") from None
    try:
        notes = validate_config(cfg)  # the one check of the choice options
    except ValueError as e:
        raise InputError(str(e)) from None
    for note in notes + _upgrade_dataset_names(cfg):
        logger.warning(note)
    cfg = CfgNode(cfg)  # a plain CfgNode again: what detectron2's own functions build
    cfg.freeze()
    return cfg


def adapt_to_machine(cfg: CfgNode) -> Tuple[CfgNode, List[str]]:
    """A frozen copy of ``cfg`` that runs on this machine, and a note per changed setting.

    Without CUDA, ``MODEL.DEVICE cuda`` becomes ``cpu`` and SyncBN becomes BN (torch's
    SyncBatchNorm runs on GPUs only; across CPU processes each one then normalizes alone).
    """
    cfg = cfg.clone()
    cfg.defrost()
    notes = []
    if cfg.MODEL.DEVICE.startswith("cuda") and not torch.cuda.is_available():
        notes.append(f"MODEL.DEVICE {cfg.MODEL.DEVICE} -> cpu: CUDA is not available")
        cfg.MODEL.DEVICE = "cpu"
    if cfg.MODEL.DEVICE == "cpu":
        for node in (cfg.MODEL.RESNETS, cfg.MODEL.SEM_SEG_HEAD):
            if node.NORM == "SyncBN":
                node.NORM = "BN"
                notes.append("SyncBN -> BN on the CPU")
    cfg.freeze()
    return cfg, sorted(set(notes))
