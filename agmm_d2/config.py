"""Config keys of agmm_d2, and THE registry of the options that take one of a set of values.

``add_agmm_config(cfg)`` adds every key this project uses. ``CHOICES`` lists, for each choice
option, its allowed values and what each means (docs/options.md is its table, checked by a test);
``validate_config(cfg)`` is the one check of those values, with renamed values upgraded.
"""
from typing import Dict, List, Tuple

from detectron2.config import CfgNode as CN
from detectron2.projects.deeplab import add_deeplab_config

__all__ = ["CHOICES", "RENAMED_VALUES", "add_agmm_config", "allowed_values", "check_choice",
           "check_pairwise_options", "validate_config"]

# Every choice option: {full config key: {allowed value: what it selects}}; the first value is
# the default.
CHOICES: Dict[str, Dict[str, str]] = {
    "MODEL.AGMM.VARIANCE": {
        "fixed": "unit variance of every Gaussian, as the released code",
        "adaptive": "the per-class variance of the paper's Eq. 7",
    },
    "MODEL.AGMM.PROTO_REDUCTION": {
        "sum": "the batch class vector is the sum of the images' prototypes, as released",
        "mean": "the batch class vector is their mean over the images holding the class",
    },
    "MODEL.AGMM.ABSENT_FROM": {
        "sparse_classes": "loss_absent takes the classes the sparse label touches as present "
                          "(released)",
        "image_classes": "loss_absent takes the dataset's complete image-level labels as present",
    },
    "MODEL.AGMM.FEATURE_NORM": {
        "none": "features used as the head gives them (released)",
        "rms": "features scaled to unit channel RMS before prototypes and distances",
    },
    "MODEL.AGMM.GMM_TARGET": {
        "released": "the GMM terms use R = exp(-a^2) class by class",
        "normalized": "R divided by its sum over the crop's present classes at each pixel",
    },
    "MODEL.AGMM.GMM_CLASS_BALANCE": {
        "none": "the unlabeled GMM term weighs each class by its area (released)",
        "inverse_frequency": "each class weighted by its inverse share of the batch's annotated "
                             "pixels, so rare classes pull as much as common ones",
    },
    "MODEL.AGMM.CE_CLASS_BALANCE": {
        "none": "partial cross-entropy is the mean over the batch's annotated pixels (released)",
        "inverse_frequency": "partial cross-entropy is the mean over the batch's annotated "
                             "classes of each class's mean, so rare classes pull as much as "
                             "common ones",
    },
    "SOLVER.OPTIMIZER": {
        "SGD": "SGD with SOLVER.MOMENTUM and NESTEROV (the released recipe)",
        "ADAMW": "AdamW (from-scratch CPU training converges faster with it)",
    },
    "TEST.OUT_OF_RANGE_LABELS": {
        "error": "a dense label value that is neither a class id nor the ignore value stops "
                 "evaluation, naming the file",
        "ignore": "such pixels count as ignored (logged)",
    },
}

# Values renamed so that each says what it selects: {full config key: {old value: new value}}.
# Configs with an old value keep working (``validate_config`` upgrades them, with a note).
RENAMED_VALUES: Dict[str, Dict[str, str]] = {
    "MODEL.AGMM.ABSENT_FROM": {"sparse": "sparse_classes", "image_labels": "image_classes"},
    "MODEL.AGMM.FEATURE_NORM": {"l2": "rms"},
}


def allowed_values(key: str) -> Tuple[str, ...]:
    """The allowed values of choice option ``key`` (e.g. "MODEL.AGMM.VARIANCE")."""
    return tuple(CHOICES[key])


def check_choice(key: str, value, name: str = None) -> None:
    """Raise ValueError unless ``value`` is allowed for ``key``; ``name`` is how the message
    calls the option (default: the config key). A renamed value is named with its new name."""
    if value in CHOICES[key]:
        return
    renamed = RENAMED_VALUES.get(key, {}).get(value)
    hint = f" ({value!r} is now called {renamed!r})" if renamed else ""
    raise ValueError(f"{name or key} is {value!r}; expected one of {allowed_values(key)}{hint}")


def _node_and_leaf(cfg, key: str):
    *path, leaf = key.split(".")
    node = cfg
    for part in path:
        node = node[part]
    return node, leaf


def validate_config(cfg) -> List[str]:
    """Upgrade renamed values in ``cfg`` (not frozen, in place), then raise ValueError for the
    first choice option whose value is not allowed, or a GMM_CONFIDENCE outside [0, 1).
    Returns one note per upgraded value, for the caller to log."""
    notes = []
    for key, renamed in RENAMED_VALUES.items():
        node, leaf = _node_and_leaf(cfg, key)
        if node[leaf] in renamed:
            old, node[leaf] = node[leaf], renamed[node[leaf]]
            notes.append(
                f"{key} {old!r} is now called {node[leaf]!r}; using it (update the config)"
            )
    for key in CHOICES:
        node, leaf = _node_and_leaf(cfg, key)
        check_choice(key, node[leaf])
    confidence = cfg.MODEL.AGMM.GMM_CONFIDENCE
    if not 0 <= confidence < 1:
        raise ValueError(f"MODEL.AGMM.GMM_CONFIDENCE is {confidence}; expected a value in [0, 1)")
    p = cfg.MODEL.PAIRWISE
    check_pairwise_options(p.WEIGHT, p.RADIUS, p.SIGMA_XY, p.SIGMA_RGB, p.DOWNSCALE)
    return notes


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
    # Options that make AGMM safe outside the released regime (README, "When to use AGMM").
    # Their defaults give the released behaviour.
    # Which classes loss_absent takes as present: "sparse_classes" (those the sparse label touches,
    # as released) or "image_classes" (the dataset's complete image-level labels).
    cfg.MODEL.AGMM.ABSENT_FROM = "sparse_classes"
    # Iterations of partial cross-entropy alone before the absent, proto and gmm terms start.
    cfg.MODEL.AGMM.WARMUP_ITERS = 0
    # Iterations over which those terms' weights then rise linearly from 0 to their value.
    cfg.MODEL.AGMM.RAMP_ITERS = 0
    # "none" (released) or "rms": features scaled to unit channel RMS before prototypes/distances.
    cfg.MODEL.AGMM.FEATURE_NORM = "none"
    # "released": the GMM terms use R = exp(-a^2) class by class; "normalized": R divided by its
    # sum over the crop's present classes at each pixel (a distribution over classes).
    cfg.MODEL.AGMM.GMM_TARGET = "released"
    # In [0, 1): the unlabeled GMM term counts only pixels whose largest response (of the
    # crop's present classes) reaches this; 0 (released) counts every valid pixel.
    cfg.MODEL.AGMM.GMM_CONFIDENCE = 0.0
    # "none" (released): the unlabeled GMM term weighs each class by its area; "inverse_frequency":
    # each class also by the inverse of its share of the batch's annotated pixels (docs/method.md).
    cfg.MODEL.AGMM.GMM_CLASS_BALANCE = "none"
    # "none" (released): loss_sem_seg is the mean over the batch's annotated pixels;
    # "inverse_frequency": the mean over its annotated classes of each class's mean (also with
    # MODEL.AGMM.ENABLED False: a class-balanced partial cross-entropy).
    cfg.MODEL.AGMM.CE_CLASS_BALANCE = "none"
    _add_pairwise_config(cfg)


def _add_pairwise_config(cfg):
    """The Gated CRF pairwise term (modeling/pairwise.py); independent of MODEL.AGMM.ENABLED."""
    cfg.MODEL.PAIRWISE = CN()
    # Weight of loss_pairwise; 0 (default) switches the term off.
    cfg.MODEL.PAIRWISE.WEIGHT = 0.0
    # Window radius r, in downscaled pixels: each pixel is paired with its (2r+1)^2 - 1 neighbours.
    cfg.MODEL.PAIRWISE.RADIUS = 5
    # Position bandwidth of the kernel, in downscaled pixels.
    cfg.MODEL.PAIRWISE.SIGMA_XY = 6.0
    # Colour bandwidth of the kernel, in grey levels (0-255) of the RGB distance.
    cfg.MODEL.PAIRWISE.SIGMA_RGB = 15.0
    # Side of the cells the term runs on, in input pixels (probabilities and colours averaged).
    cfg.MODEL.PAIRWISE.DOWNSCALE = 4


def _add_input_config(cfg):
    """Keys of the sparse-label training mapper (agmm_d2/data).

    The mapper also reads detectron2's INPUT.FORMAT, INPUT.RANDOM_FLIP and INPUT.CROP
    (ENABLED, TYPE "absolute", SIZE (h, w) in pixels; padded with 0 / ignore).
    """
    # Random rescale: the image's long side is multiplied by a factor uniform in this range.
    cfg.INPUT.LONG_SIDE_SCALE_RANGE = (0.5, 2.0)
    # "Not annotated" value of sparse label files whose dataset dicts do not carry their own.
    cfg.INPUT.SPARSE_UNLABELED_VALUE = 255
    cfg.INPUT.COLOR_AUG = CN()
    # Photometric augmentations of the released VOC recipe (the four below); off by default.
    cfg.INPUT.COLOR_AUG.ENABLED = False
    # Probability of torchvision-style colour jitter.
    cfg.INPUT.COLOR_AUG.JITTER_PROB = 0.5
    # Jitter strengths: brightness, contrast, saturation (factor 1 +- x), hue (shift +- x turns).
    cfg.INPUT.COLOR_AUG.JITTER = (0.5, 0.5, 0.5, 0.25)
    # Probability of replacing the image by its grayscale version.
    cfg.INPUT.COLOR_AUG.GRAYSCALE_PROB = 0.1
    # Probability of a Gaussian blur.
    cfg.INPUT.COLOR_AUG.BLUR_PROB = 0.5
    # Range of the blur's sigma, in pixels.
    cfg.INPUT.COLOR_AUG.BLUR_SIGMA = (0.1, 2.0)
    # Probability of an additive brightness shift.
    cfg.INPUT.COLOR_AUG.BRIGHTNESS_PROB = 0.5
    # Largest brightness shift, in grey levels (0-255), drawn uniformly in +-this.
    cfg.INPUT.COLOR_AUG.BRIGHTNESS_SHIFT = 10.0


def _add_solver_test_config(cfg):
    """Keys of the optimizer, schedule and test-time augmentation.

    Also used: detectron2's SOLVER.* (BASE_LR is the backbone's lr; LR_SCHEDULER_NAME
    "WarmupPolyLR" with POLY_LR_POWER), TEST.AUG.ENABLED / TEST.AUG.FLIP and TEST.PRECISE_BN.*
    (batch-norm statistics re-estimated after training; SOLVER.SWA needs them).
    """
    # Learning-rate factor of every parameter outside the backbone (10 in the released VOC recipe).
    cfg.SOLVER.HEAD_LR_MULTIPLIER = 1.0
    # "SGD" (the released recipe: SOLVER.MOMENTUM, NESTEROV) or "ADAMW" (from-scratch CPU
    # training converges faster with it); both use BASE_LR and the WEIGHT_DECAY* keys.
    cfg.SOLVER.OPTIMIZER = "SGD"
    cfg.SOLVER.SWA = CN()
    # Stochastic weight averaging: the trained model is the mean of the weights after each step
    # from START_FRACTION x MAX_ITER on (engine/weight_averaging.py); needs
    # TEST.PRECISE_BN.ENABLED.
    cfg.SOLVER.SWA.ENABLED = False
    # Where the average starts, as a fraction of SOLVER.MAX_ITER in [0, 1): it follows a changed
    # MAX_ITER (a shorter run, or a --resume that extends it).
    cfg.SOLVER.SWA.START_FRACTION = 0.5
    # Relative image scales of multi-scale testing, used when TEST.AUG.ENABLED (1.0 = input size).
    cfg.TEST.AUG.SCALES = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    cfg.TEST.SLIDING_WINDOW = CN()
    # Predict overlapping windows and average their probabilities instead of the whole image.
    cfg.TEST.SLIDING_WINDOW.ENABLED = False
    # Window (h, w) in pixels; empty: the training crop INPUT.CROP.SIZE, as the released recipe.
    cfg.TEST.SLIDING_WINDOW.SIZE = []
    # Fraction of a window's side shared with the next window (2/3 in the Cityscapes recipe).
    cfg.TEST.SLIDING_WINDOW.OVERLAP = 2.0 / 3.0
    # A dense evaluation label value that is neither a class id nor the ignore value: "error"
    # stops evaluation naming the file; "ignore" counts those pixels as ignored (logged).
    cfg.TEST.OUT_OF_RANGE_LABELS = "error"


def check_pairwise_options(weight, radius, sigma_xy, sigma_rgb, downscale) -> None:
    """Raise ValueError naming the MODEL.PAIRWISE key whose value is outside its range."""
    checks = [("WEIGHT", weight, weight >= 0, ">= 0"),
              ("RADIUS", radius, int(radius) == radius and radius >= 1, "an integer >= 1"),
              ("SIGMA_XY", sigma_xy, sigma_xy > 0, "> 0"),
              ("SIGMA_RGB", sigma_rgb, sigma_rgb > 0, "> 0"),
              ("DOWNSCALE", downscale, int(downscale) == downscale and downscale >= 1,
               "an integer >= 1")]
    for key, value, ok, expected in checks:
        if not ok:
            raise ValueError(f"MODEL.PAIRWISE.{key} must be {expected}, got {value!r}")
