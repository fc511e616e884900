"""The options that make AGMM safe (issue 7): warm-up, image-level labels, feature normalisation.

Each is checked against a plain reference or against what it promises, and the defaults against
the released behaviour.
"""
import json

import cv2
import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.utils.events import EventStorage

from agmm_d2 import add_agmm_config
from agmm_d2.data import SparseSemSegDatasetMapper, load_sparse_sem_seg
from agmm_d2.data.datasets.generic import DatasetLayoutError
from agmm_d2.modeling import AGMMSemanticSegmentor
from agmm_d2.modeling.agmm_loss import AGMMLoss, agmm_loss, gmm_response, ramp_factor
from tests.modeling.test_agmm_loss import (
    KEYS,
    check_against_reference,
    grads,
    make_batch,
    reference,
)
from tests.modeling.test_model import tiny_model


def _cfg(*opts):
    cfg = get_cfg()
    add_agmm_config(cfg)
    cfg.merge_from_list(list(opts))
    return cfg


def test_defaults_are_the_released_behaviour():
    agmm = _cfg().MODEL.AGMM
    assert (agmm.ABSENT_FROM, agmm.WARMUP_ITERS, agmm.RAMP_ITERS, agmm.FEATURE_NORM) == \
        ("sparse_classes", 0, 0, "none")
    batch = make_batch(2, 4, 6, 17, 17, 5, 5, seed=40)
    loss = AGMMLoss(_cfg())
    for iteration in (None, 0, 1000):
        out = loss(*batch, iteration=iteration)
        ref = reference(*batch)
        for k in KEYS:
            torch.testing.assert_close(out[k], ref[k], rtol=1e-5, atol=1e-9)


# ----------------------------------------------------------------------------------------------
# Warm-up
# ----------------------------------------------------------------------------------------------
def test_ramp_factor_schedule():
    # 3 iterations of partial CE alone, then 4 of linear ramp, then full weight.
    assert [ramp_factor(i, 3, 4) for i in range(9)] == [0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1, 1]
    assert [ramp_factor(i, 2, 0) for i in range(4)] == [0, 0, 1, 1]
    assert ramp_factor(None, 5, 5) == 1 and ramp_factor(0, 0, 0) == 1


def test_warmup_ramps_the_agmm_weights_and_not_partial_ce():
    batch = make_batch(2, 4, 6, 17, 17, 5, 5, seed=41)
    full = agmm_loss(*batch, weights={"gmm": 0.5})
    loss = AGMMLoss(weights={"gmm": 0.5}, warmup_iters=10, ramp_iters=4)
    for iteration, factor in [(0, 0.0), (9, 0.0), (10, 0.2), (12, 0.6), (13, 0.8), (14, 1.0),
                              (500, 1.0)]:
        out = loss(*batch, iteration=iteration)
        torch.testing.assert_close(out["loss_sem_seg"], full["loss_sem_seg"])
        for k in ("loss_absent", "loss_proto", "loss_gmm"):
            torch.testing.assert_close(out[k], full[k] * factor, msg=f"{k} at {iteration}")
    with pytest.raises(ValueError, match="warmup_iters"):
        AGMMLoss(warmup_iters=-1)


def test_model_reads_the_iteration_from_the_trainer_storage():
    cfg_opts = ["MODEL.AGMM.WARMUP_ITERS", 5, "MODEL.AGMM.RAMP_ITERS", 5]
    model = tiny_model(*cfg_opts).train()
    assert model.criterion.warmup_iters == 5 and model.criterion.ramp_iters == 5
    g = torch.Generator().manual_seed(0)
    label = torch.full((32, 32), 255, dtype=torch.long)
    label[4:8, 4:8], label[20:24, 20:24] = 1, 3
    batch = [{"image": torch.randint(0, 256, (3, 32, 32), generator=g, dtype=torch.uint8),
              "sparse_seg": label, "valid": torch.ones(32, 32, dtype=torch.bool),
              "sparse_classes": torch.tensor([0, 1, 0, 1, 0, 0.])}]
    torch.manual_seed(1)  # the same ASPP dropout in every call
    with EventStorage(start_iter=2):
        early = model(batch)
    torch.manual_seed(1)
    with EventStorage(start_iter=100):
        late = model(batch)
    assert all(early[k] == 0 for k in ("loss_absent", "loss_proto", "loss_gmm"))
    assert all(late[k] > 0 for k in ("loss_absent", "loss_proto", "loss_gmm"))
    torch.testing.assert_close(early["loss_sem_seg"], late["loss_sem_seg"])
    torch.manual_seed(1)
    outside = model(batch)  # no trainer: the full weights
    torch.testing.assert_close(outside["loss_gmm"], late["loss_gmm"])


# ----------------------------------------------------------------------------------------------
# ABSENT_FROM: which classes the absent-class term takes as present
# ----------------------------------------------------------------------------------------------
def _spy_model(absent_from):
    seen = {}

    def spy(features, logits, targets, valid, class_presence, iteration=None):
        seen["class_presence"] = class_presence
        return {"loss_sem_seg": logits.sum() * 0}

    base = tiny_model()
    model = AGMMSemanticSegmentor(backbone=base.backbone, sem_seg_head=base.sem_seg_head,
                                  criterion=spy, pixel_mean=[128.0] * 3, pixel_std=[64.0] * 3,
                                  absent_from=absent_from).train()
    return model, seen


def _input(image_classes=None):
    x = {"file_name": "img_0.png", "image": torch.zeros(3, 16, 16, dtype=torch.uint8),
         "sparse_seg": torch.full((16, 16), 255, dtype=torch.long),
         "valid": torch.ones(16, 16, dtype=torch.bool),
         "sparse_classes": torch.tensor([1, 0, 0, 0, 0, 0.])}
    if image_classes is not None:
        x["image_classes"] = torch.tensor(image_classes, dtype=torch.float32)
    return x


def test_absent_from_image_classes_uses_the_given_labels():
    given = [1, 0, 1, 1, 0, 0]
    model, seen = _spy_model("image_classes")
    model([_input(given), _input([1, 1, 0, 0, 0, 1])])
    assert seen["class_presence"].tolist() == [given, [1, 1, 0, 0, 0, 1]]
    model, seen = _spy_model("sparse_classes")
    model([_input(given)])
    assert seen["class_presence"].tolist() == [[1, 0, 0, 0, 0, 0]]


def test_absent_from_image_classes_without_labels_names_the_image():
    model, _ = _spy_model("image_classes")
    with pytest.raises(ValueError, match="img_0.png.*image_classes"):
        model([_input()])
    with pytest.raises(ValueError, match="ABSENT_FROM"):
        tiny_model("MODEL.AGMM.ABSENT_FROM", "dense")


def test_image_classes_change_only_the_absent_term():
    """With complete labels c (a superset of the sparse classes), only loss_absent changes,
    and it equals docs/method.md's term with those labels."""
    features, logits, targets, valid, sparse_c = make_batch(2, 5, 6, 17, 17, 5, 5, seed=42)
    complete = sparse_c.clone()
    complete[:, :3] = 1
    a = agmm_loss(features, logits, targets, valid, sparse_c, variance="adaptive")
    b = agmm_loss(features, logits, targets, valid, complete, variance="adaptive")
    ref = reference(features, logits, targets, valid, complete, variance="adaptive")
    torch.testing.assert_close(b["loss_absent"], ref["loss_absent"])
    assert b["loss_absent"] < a["loss_absent"]
    for k in ("loss_sem_seg", "loss_proto", "loss_gmm"):
        torch.testing.assert_close(a[k], b[k])


# ----------------------------------------------------------------------------------------------
# Feature normalisation
# ----------------------------------------------------------------------------------------------
def _assert_matches(fast, ref, inputs):
    """Every term of ``fast`` equals ``ref``'s, values and gradients with respect to ``inputs``."""
    g_fast, g_ref = grads(fast, inputs), grads(ref, inputs)
    for k in KEYS:
        torch.testing.assert_close(fast[k], ref[k], rtol=1e-5, atol=1e-8, msg=k)
        for a, b in zip(g_fast[k], g_ref[k]):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-8, msg=f"grad of {k}")


def ref_unit_rms(features):
    """Each feature vector divided by its root-mean-square over channels."""
    return features / features.pow(2).mean(1, keepdim=True).sqrt()


@pytest.mark.parametrize("variance", ["fixed", "adaptive"])
def test_rms_feature_norm_is_the_reference_on_normalised_features(variance):
    features, logits, targets, valid, c = make_batch(2, 5, 8, 21, 19, 6, 5, seed=43)
    features = features.clone().requires_grad_()
    logits = logits.clone().requires_grad_()
    fast = agmm_loss(features, logits, targets, valid, c, variance=variance, feature_norm="rms")
    ref = reference(ref_unit_rms(features), logits, targets, valid, c, variance=variance)
    _assert_matches(fast, ref, (features, logits))


def test_rms_feature_norm_is_scale_invariant_and_none_is_not():
    batch = make_batch(2, 4, 6, 17, 17, 5, 5, seed=44)
    scaled = (batch[0] * 7.0,) + batch[1:]
    a, b = agmm_loss(*batch, feature_norm="rms"), agmm_loss(*scaled, feature_norm="rms")
    for k in KEYS:  # equal up to the 1e-6 guard of the norm
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-8)
    assert not torch.isclose(agmm_loss(*batch)["loss_gmm"], agmm_loss(*scaled)["loss_gmm"])
    with pytest.raises(ValueError, match="feature_norm"):
        agmm_loss(*batch, feature_norm="batch")


@pytest.mark.parametrize("variance", ["fixed", "adaptive"])
def test_normalized_gmm_target_is_the_reference(variance):
    """GMM_TARGET normalized: R_low divided by its sum over the present classes; values and
    gradients against the loop reference, and R sums to 1 over classes where it is defined."""
    features, logits, targets, valid, c = make_batch(2, 5, 8, 21, 19, 6, 5, seed=46)
    features = features.clone().requires_grad_()
    logits = logits.clone().requires_grad_()
    fast = agmm_loss(features, logits, targets, valid, c, variance=variance,
                     gmm_target="normalized")
    ref = reference(features, logits, targets, valid, c, variance=variance,
                    gmm_target="normalized")
    _assert_matches(fast, ref, (features, logits))
    released = agmm_loss(features, logits, targets, valid, c, variance=variance)
    assert not torch.isclose(released["loss_gmm"], fast["loss_gmm"])
    for k in ("loss_sem_seg", "loss_absent", "loss_proto"):  # only the GMM terms change
        torch.testing.assert_close(released[k], fast[k])
    r = gmm_response(features, logits, targets, valid, c, gmm_target="normalized")
    sums = r.sum(1)[(targets != 255).any(-1).any(-1)]
    torch.testing.assert_close(sums, torch.ones_like(sums), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="gmm_target"):
        agmm_loss(features, logits, targets, valid, c, gmm_target="softmax")


@pytest.mark.parametrize("gmm_target", ["normalized", "released"])
def test_gmm_confidence_gate_is_the_reference(gmm_target):
    """GMM_CONFIDENCE: the unlabeled GMM term counts only pixels whose largest present-class
    response reaches tau; values and gradients against the loop reference."""
    features, logits, targets, valid, c = make_batch(2, 5, 8, 21, 19, 6, 5, seed=47)
    features = features.clone().requires_grad_()
    logits = logits.clone().requires_grad_()
    r = gmm_response(features, logits, targets, valid, c, gmm_target=gmm_target)
    tau = float(r.amax(1)[valid].median())  # about half of the pixels pass: a real test
    fast = agmm_loss(features, logits, targets, valid, c, gmm_target=gmm_target,
                     gmm_confidence=tau)
    ref = reference(features, logits, targets, valid, c, gmm_target=gmm_target,
                    gmm_confidence=tau)
    _assert_matches(fast, ref, (features, logits))
    ungated = agmm_loss(features, logits, targets, valid, c, gmm_target=gmm_target)
    assert fast["loss_gmm"] < ungated["loss_gmm"]
    with pytest.raises(ValueError, match="gmm_confidence"):
        agmm_loss(features, logits, targets, valid, c, gmm_confidence=1.0)


def test_default_still_matches_the_reference():
    check_against_reference(make_batch(2, 5, 8, 33, 33, 9, 9, seed=45))


# ----------------------------------------------------------------------------------------------
# The data side: registrations carry image_classes, the mapper passes them through
# ----------------------------------------------------------------------------------------------
def _folder(tmp_path, n=3):
    """Images, dense labels and sparse labels (one click of the first class) for n images."""
    rng = np.random.default_rng(0)
    for sub in ("img", "dense", "sparse"):
        (tmp_path / sub).mkdir()
    expected = {}
    for i in range(n):
        dense = rng.integers(0, 2 + i, (12, 12)).astype(np.uint8)
        dense[0, 0] = 255
        sparse = np.full((12, 12), 255, np.uint8)
        sparse[3, 3] = dense[3, 3]
        cv2.imwrite(str(tmp_path / "img" / f"im{i}.png"), np.zeros((12, 12, 3), np.uint8))
        cv2.imwrite(str(tmp_path / "dense" / f"im{i}.png"), dense)
        cv2.imwrite(str(tmp_path / "sparse" / f"im{i}.png"), sparse)
        expected[f"im{i}"] = sorted(int(v) for v in np.unique(dense) if v != 255)
    return expected


def test_registration_reads_image_classes_from_dense_json_or_dict(tmp_path):
    expected = _folder(tmp_path)
    roots = (tmp_path / "img", tmp_path / "sparse", tmp_path / "dense")
    load = lambda **kw: {d["image_id"]: d.get("image_classes")  # noqa: E731
                         for d in load_sparse_sem_seg(*roots, image_ext=".png", **kw)}
    assert load(image_classes="dense") == expected
    assert set(load().values()) == {None}  # "auto" without a JSON file: none
    (tmp_path / "sparse" / "image_classes.json").write_text(json.dumps({**expected, "im0": [4]}))
    assert load()["im0"] == [4]  # "auto" reads the JSON next to the sparse labels
    assert load(image_classes={k: [1] for k in expected})["im2"] == [1]
    assert set(load(image_classes=None).values()) == {None}
    (tmp_path / "sparse" / "image_classes.json").write_text(json.dumps({"im0": [1]}))
    with pytest.raises(DatasetLayoutError, match="lack 2 of 3 images"):
        load()
    (tmp_path / "sparse" / "image_classes.json").write_text("{not json")
    with pytest.raises(DatasetLayoutError, match="image_classes.json"):
        load()


def test_mapper_passes_image_classes_through_united_with_sparse(tmp_path):
    expected = _folder(tmp_path, n=1)
    d = load_sparse_sem_seg(tmp_path / "img", tmp_path / "sparse", image_ext=".png",
                            image_classes={"im0": [2]})[0]
    mapper = SparseSemSegDatasetMapper(augmentations=[], image_format="RGB", num_classes=4)
    out = mapper(d)
    clicked = int(cv2.imread(d["sparse_seg_file_name"], cv2.IMREAD_UNCHANGED)[3, 3])
    assert expected["im0"]
    assert out["sparse_classes"].tolist() == [float(i == clicked) for i in range(4)]
    assert out["image_classes"].tolist() == [float(i in (2, clicked)) for i in range(4)]
    assert "image_classes" not in mapper({k: v for k, v in d.items() if k != "image_classes"})
    with pytest.raises(ValueError, match="im0.png.*outside 0..3"):
        mapper({**d, "image_classes": [7]})
