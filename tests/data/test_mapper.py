"""The sparse-label training mapper: c before the crop, T/V on padding, flips, clear errors."""
import re

import cv2
import numpy as np
import pytest
import torch
from detectron2.data import transforms as T

from agmm_d2.data import SparseSemSegDatasetMapper
from agmm_d2.data.transforms import RandomCropWithPad

K = 5


def _write(tmp_path, image, label, name="a"):
    image_file, label_file = tmp_path / f"{name}.png", tmp_path / f"{name}_label.png"
    cv2.imwrite(str(image_file), image[:, :, ::-1])
    cv2.imwrite(str(label_file), label)
    return {"file_name": str(image_file), "sparse_seg_file_name": str(label_file),
            "height": image.shape[0], "width": image.shape[1]}


def _sample(tmp_path, h=20, w=30, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.integers(1, 256, (h, w, 3), dtype=np.uint8)  # no 0: padding is 0
    label = np.full((h, w), 255, np.uint8)
    label[2:5, 3:6] = 1
    label[h - 3:, w - 4:] = 3  # bottom-right corner, outside a top-left crop
    label[10, 10] = 0
    return image, label, _write(tmp_path, image, label)


def _mapper(augs, fmt="RGB", **kw):
    return SparseSemSegDatasetMapper(augmentations=augs, image_format=fmt, num_classes=K, **kw)


def test_output_types_and_identity(tmp_path):
    image, label, d = _sample(tmp_path)
    out = _mapper([])(d)
    assert out["image"].dtype == torch.uint8 and out["image"].shape == (3, 20, 30)
    assert out["sparse_seg"].dtype == torch.int64 and out["valid"].dtype == torch.bool
    assert out["sparse_classes"].dtype == torch.float32 and out["sparse_classes"].shape == (K,)
    assert np.array_equal(out["image"].permute(1, 2, 0).numpy(), image)
    assert np.array_equal(out["sparse_seg"].numpy(), label)
    assert out["valid"].all()
    assert out["sparse_classes"].tolist() == [1, 1, 0, 1, 0]
    bgr = _mapper([], fmt="BGR")(d)["image"]
    assert torch.equal(bgr, out["image"].flip(0))


def test_sparse_classes_are_computed_before_the_crop(tmp_path):
    _, _, d = _sample(tmp_path)
    out = _mapper([T.CropTransform(0, 0, 8, 8)])(d)
    assert out["sparse_seg"].shape == (8, 8)
    assert 3 not in out["sparse_seg"].unique().tolist()
    assert out["sparse_classes"][3] == 1 and out["sparse_classes"][1] == 1


def test_crop_with_padding_marks_padding_in_t_and_v(tmp_path):
    image, label, d = _sample(tmp_path)
    np.random.seed(0)
    out = _mapper([RandomCropWithPad((32, 40))])(d)
    seg, valid, img = out["sparse_seg"].numpy(), out["valid"].numpy(), out["image"].numpy()
    assert seg.shape == valid.shape == (32, 40)
    assert valid[:20, :30].all() and not valid[20:].any() and not valid[:, 30:].any()
    assert (seg[~valid] == 255).all() and (img[:, ~valid] == 0).all()
    assert np.array_equal(seg[:20, :30], label)  # image smaller than the crop: offset 0


def test_unlabeled_value_of_the_dataset_becomes_255(tmp_path):
    image, label, _ = _sample(tmp_path)
    label21 = np.where(label == 255, 21, label).astype(np.uint8)
    d = _write(tmp_path, image, label21, name="b")
    d["sparse_unlabeled_value"] = 21
    out = _mapper([])(d)
    assert np.array_equal(out["sparse_seg"].numpy(), label)
    out = _mapper([], unlabeled_value=21)(
        {k: v for k, v in d.items() if k != "sparse_unlabeled_value"}
    )
    assert np.array_equal(out["sparse_seg"].numpy(), label)


def test_flip_moves_image_t_and_v_together(tmp_path):
    _, _, d = _sample(tmp_path)
    np.random.seed(1)
    plain = _mapper([RandomCropWithPad((24, 36))])(d)
    np.random.seed(1)
    flipped = _mapper([RandomCropWithPad((24, 36)), T.HFlipTransform(36)])(d)
    assert torch.equal(flipped["image"], plain["image"].flip(-1))
    assert torch.equal(flipped["sparse_seg"], plain["sparse_seg"].flip(-1))
    assert torch.equal(flipped["valid"], plain["valid"].flip(-1))
    assert not flipped["valid"][:, 0].any() and flipped["valid"][:20, -1].all()  # padding now left


def test_full_recipe_from_config_keeps_invariants(tmp_path):
    from detectron2.config import get_cfg

    from agmm_d2 import add_agmm_config

    cfg = get_cfg()
    add_agmm_config(cfg)
    cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES = K
    cfg.INPUT.CROP.ENABLED, cfg.INPUT.CROP.TYPE, cfg.INPUT.CROP.SIZE = True, "absolute", (24, 24)
    cfg.INPUT.COLOR_AUG.ENABLED = True
    mapper = SparseSemSegDatasetMapper(cfg, True)
    _, label, d = _sample(tmp_path)
    np.random.seed(3)
    saw_padding = False
    for _ in range(20):
        out = mapper(d)
        seg, valid = out["sparse_seg"].numpy(), out["valid"].numpy()
        assert out["image"].shape == (3, 24, 24) and seg.shape == (24, 24)
        assert set(np.unique(seg)) <= {0, 1, 3, 255}
        assert (seg[~valid] == 255).all()
        assert out["sparse_classes"].tolist() == [1, 1, 0, 1, 0]
        saw_padding |= not valid.all()
    assert saw_padding


def test_mapper_feeds_detectron2_train_loader(tiny_synthetic):
    from detectron2.config import get_cfg
    from detectron2.data import build_detection_train_loader

    from agmm_d2 import add_agmm_config
    from agmm_d2.data import register_synthetic
    from agmm_d2.data.datasets import datasets_root
    from agmm_d2.data.synthetic import CLASSES

    register_synthetic(tiny_synthetic)
    try:
        cfg = get_cfg()
        add_agmm_config(cfg)
        cfg.DATASETS.TRAIN = ("synthetic_train_points",)
        cfg.MODEL.SEM_SEG_HEAD.NUM_CLASSES = len(CLASSES)
        cfg.INPUT.CROP.ENABLED, cfg.INPUT.CROP.TYPE, cfg.INPUT.CROP.SIZE = (
            True,
            "absolute",
            (48, 48),
        )
        cfg.SOLVER.IMS_PER_BATCH, cfg.DATALOADER.NUM_WORKERS = 2, 0
        loader = build_detection_train_loader(cfg, mapper=SparseSemSegDatasetMapper(cfg, True))
        batch = next(iter(loader))
        assert len(batch) == 2
        assert all(
            b["sparse_seg"].shape == (48, 48) and b["sparse_classes"].sum() >= 1 for b in batch
        )
    finally:
        register_synthetic(datasets_root())


@pytest.mark.parametrize("case", ["rgb", "size", "value"])
def test_bad_label_files_name_the_file(tmp_path, case):
    image, label, d = _sample(tmp_path)
    if case == "rgb":
        bad = np.repeat(label[:, :, None], 3, axis=2)
        message = "single-channel"
    elif case == "size":
        bad = label[:-1]
        message = "29x20|30x19"
    else:
        bad = label.copy()
        bad[0, 0] = K + 2  # neither a class id nor the unlabeled value
        message = f"\\[{K + 2}\\]"
    cv2.imwrite(d["sparse_seg_file_name"], bad)
    with pytest.raises(
        ValueError, match=re.escape(d["sparse_seg_file_name"]) + ".*(" + message + ")"
    ):
        _mapper([])(d)
