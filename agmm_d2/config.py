"""Config keys of agmm_d2. ``add_agmm_config(cfg)`` adds every key this project uses."""
from detectron2.config import CfgNode as CN
from detectron2.projects.deeplab import add_deeplab_config


def add_agmm_config(cfg):
    """Add detectron2's DeepLab keys and agmm_d2's own keys to ``cfg`` (in place)."""
    add_deeplab_config(cfg)
    _add_model_config(cfg)
    _add_input_config(cfg)
    _add_solver_test_config(cfg)


def _add_model_config(cfg):
    cfg.MODEL.AGMM = CN()
    # Add the AGMM terms to the loss; False gives the partial cross-entropy baseline.
    cfg.MODEL.AGMM.ENABLED = True
    # Weight of the partial cross-entropy over annotated pixels (loss_sem_seg).
    cfg.MODEL.AGMM.SEM_SEG_WEIGHT = 1.0
    # Weight of the absent-class term (loss_absent); 0 switches it off.
    cfg.MODEL.AGMM.ABSENT_WEIGHT = 1.0
    # Weight of the prototype separation term (loss_proto).
    cfg.MODEL.AGMM.PROTO_WEIGHT = 1.0
    # Weight of the two Gaussian-mixture terms together (loss_gmm).
    cfg.MODEL.AGMM.GMM_WEIGHT = 1.0
    # "fixed": unit variance, as the released code; "adaptive": the paper's Eq. 7.
    cfg.MODEL.AGMM.VARIANCE = "fixed"
    # "sum": batch class vector summed over images, as released; "mean": divided by their count.
    cfg.MODEL.AGMM.PROTO_REDUCTION = "sum"


def _add_input_config(cfg):
    """Keys of the sparse-label training mapper (agmm_d2/data)."""


def _add_solver_test_config(cfg):
    """Keys of the optimizer, schedule and test-time augmentation."""
