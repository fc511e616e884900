"""GMM_CLASS_BALANCE "inverse_frequency" against a loop reference written from docs/method.md
(Section 5), values and gradients in float64; the default stays the released term (for
CE_CLASS_BALANCE too; its reference is in test_ce_class_balance.py)."""
import importlib

import pytest
import torch

from agmm_d2.modeling.agmm_loss import AGMMLoss, agmm_loss
from tests.modeling.test_agmm_loss import (
    IGNORE,
    KEYS,
    grads,
    make_batch,
    ref_gmm,
    reference,
)

# The module (agmm_d2.modeling re-exports the function agmm_loss under the module's name).
agmm_loss_module = importlib.import_module("agmm_d2.modeling.agmm_loss")


def ref_beta(n):
    """beta_k = (1 / n_k) / mean over the annotated classes j of (1 / n_j); 0 where n_k = 0.

    n: the batch's annotated pixels per class."""
    present = [k for k in range(len(n)) if n[k]]
    if not present:
        return [0.0] * len(n)
    mean_inverse = sum(1 / n[k] for k in present) / len(present)
    return [(1 / n[k]) / mean_inverse if n[k] else 0.0 for k in range(len(n))]


def ref_gmm_balanced(features, logits, targets, valid, class_presence, variance, gmm_target):
    """loss_gmm with the unlabeled term's class weights w[b, k] * beta_k."""
    K = logits.shape[1]
    beta = ref_beta([int((targets == k).sum()) for k in range(K)])
    return ref_gmm(features, logits, targets, valid, class_presence, variance, gmm_target,
                   class_weight=beta)


def check(batch, variance="fixed", gmm_target="released"):
    features, logits, targets, valid, c = batch
    features = features.clone().requires_grad_()
    logits = logits.clone().requires_grad_()
    fast = agmm_loss(features, logits, targets, valid, c, variance=variance,
                     gmm_target=gmm_target, gmm_class_balance="inverse_frequency")
    ref = reference(features, logits, targets, valid, c, variance=variance, gmm_target=gmm_target)
    ref["loss_gmm"] = ref_gmm_balanced(features, logits, targets, valid, c, variance, gmm_target)
    g_fast, g_ref = grads(fast, (features, logits)), grads(ref, (features, logits))
    for k in KEYS:
        torch.testing.assert_close(fast[k], ref[k], rtol=1e-5, atol=1e-9, msg=k)
        for a, b in zip(g_fast[k], g_ref[k]):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-9, msg=f"grad of {k}")
    return fast


@pytest.mark.parametrize("variance", ["fixed", "adaptive"])
@pytest.mark.parametrize("gmm_target", ["released", "normalized"])
def test_matches_reference(variance, gmm_target):
    batch = make_batch(3, 5, 6, 21, 19, 6, 5, seed=60, density=0.1)
    balanced = check(batch, variance, gmm_target)
    released = agmm_loss(*batch, variance=variance, gmm_target=gmm_target)
    assert not torch.isclose(balanced["loss_gmm"], released["loss_gmm"])
    for k in ("loss_sem_seg", "loss_absent", "loss_proto"):  # only the unlabeled GMM term moves
        torch.testing.assert_close(balanced[k], released[k])


def test_sliced_and_degenerate_batches(monkeypatch):
    from agmm_d2.modeling import agmm_ops

    monkeypatch.setattr(agmm_ops, "_SLICE", 64)
    check(make_batch(2, 4, 5, 25, 23, 7, 6, seed=61))
    no_annotation = make_batch(2, 4, 5, 17, 17, 5, 5, seed=62)
    no_annotation = no_annotation[:2] + (torch.full_like(no_annotation[2], IGNORE),) + \
        no_annotation[3:]
    assert check(no_annotation)["loss_gmm"] == 0
    check(make_batch(2, 4, 5, 17, 17, 5, 5, seed=63, n_classes=1))


def test_beta_averages_one_and_favours_rare_classes():
    counts = torch.tensor([[10, 0, 2, 0], [30, 0, 0, 8]])
    beta = agmm_loss_module.class_balance_weights(counts)
    torch.testing.assert_close(beta, torch.tensor(ref_beta([40, 0, 2, 8]), dtype=torch.float64))
    assert beta[1] == 0 and float(beta[[0, 2, 3]].mean()) == pytest.approx(1)
    assert beta[2] > beta[3] > beta[0]


def test_mutation_without_the_weights_fails(monkeypatch):
    monkeypatch.setattr(agmm_loss_module, "class_balance_weights",
                        lambda counts: torch.ones(counts.shape[1], dtype=torch.float64))
    with pytest.raises(AssertionError):
        check(make_batch(3, 5, 6, 21, 19, 6, 5, seed=60, density=0.1))


@pytest.mark.parametrize("key, argument, term", [
    ("GMM_CLASS_BALANCE", "gmm_class_balance", "loss_gmm"),
    ("CE_CLASS_BALANCE", "ce_class_balance", "loss_sem_seg"),
])
def test_option_from_config_and_default_is_released(key, argument, term):
    """Both class-balance options: default "none" is the released loss; "inverse_frequency"
    from the config is agmm_loss's; an unknown value names the argument."""
    from detectron2.config import get_cfg

    from agmm_d2.config import add_agmm_config

    cfg = get_cfg()
    add_agmm_config(cfg)
    assert cfg.MODEL.AGMM[key] == "none"
    batch = make_batch(2, 4, 6, 17, 17, 5, 5, seed=64)
    default = AGMMLoss(cfg)(*batch)
    released = reference(*batch)
    for k in KEYS:
        torch.testing.assert_close(default[k], released[k], rtol=1e-5, atol=1e-9)
    cfg.MODEL.AGMM[key] = "inverse_frequency"
    balanced = AGMMLoss(cfg)(*batch)
    expected = agmm_loss(*batch, **{argument: "inverse_frequency"})
    torch.testing.assert_close(balanced[term], expected[term])
    assert not torch.isclose(balanced[term], default[term])
    with pytest.raises(ValueError, match=argument):
        AGMMLoss(**{argument: "area"})
