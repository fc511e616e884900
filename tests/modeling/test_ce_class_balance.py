"""CE_CLASS_BALANCE "inverse_frequency" against a loop reference written from docs/method.md
(the class-balanced partial cross-entropy), values and gradients in float64; the default stays
the released term (tested with GMM_CLASS_BALANCE in test_class_balance.py)."""
import importlib

import pytest
import torch

from agmm_d2.modeling.agmm_loss import AGMMLoss, agmm_loss
from tests.modeling.test_agmm_loss import IGNORE, make_batch

agmm_loss_module = importlib.import_module("agmm_d2.modeling.agmm_loss")


def ref_balanced_ce(logits, targets, valid):
    """(1 / |S|) sum over the batch's annotated classes k of the mean, over the annotated valid
    pixels of class k, of -log softmax(Z)_k; written pixel by pixel."""
    per_class = {}
    B, K, H, W = logits.shape
    for b in range(B):
        for y in range(H):
            for x in range(W):
                k = int(targets[b, y, x])
                if k == IGNORE or not valid[b, y, x]:
                    continue
                nll = -torch.log_softmax(logits[b, :, y, x], 0)[k]
                per_class.setdefault(k, []).append(nll)
    if not per_class:
        return logits.sum() * 0
    return sum(sum(v) / len(v) for v in per_class.values()) / len(per_class)


def check(batch, enabled=True, **options):
    features, logits, targets, valid, c = batch
    logits = logits.clone().requires_grad_()
    loss = AGMMLoss(enabled=enabled, ce_class_balance="inverse_frequency", **options)
    fast = loss(features, logits, targets, valid, c)["loss_sem_seg"]
    ref = ref_balanced_ce(logits, targets, valid)
    torch.testing.assert_close(fast, ref, rtol=1e-7, atol=1e-12)
    if ref.requires_grad:
        g_fast, = torch.autograd.grad(fast, logits)
        g_ref, = torch.autograd.grad(ref, logits)
        torch.testing.assert_close(g_fast, g_ref, rtol=1e-7, atol=1e-12)
    return fast


@pytest.mark.parametrize("enabled", [True, False])
def test_matches_reference(enabled):
    # Unbalanced on purpose: class 0 annotated far more often than the others.
    batch = make_batch(3, 5, 4, 13, 11, 4, 3, seed=70, density=0.3)
    features, logits, targets, valid, c = batch
    targets = torch.where((torch.rand(targets.shape, generator=torch.Generator().manual_seed(1))
                           < 0.5) & valid, torch.zeros_like(targets), targets)
    batch = (features, logits, targets, valid, c)
    balanced = check(batch, enabled)
    released = agmm_loss(*batch)
    assert not torch.isclose(balanced, released["loss_sem_seg"])
    if enabled:  # the other terms do not move
        both = agmm_loss(*batch, ce_class_balance="inverse_frequency")
        for k in ("loss_absent", "loss_proto", "loss_gmm"):
            torch.testing.assert_close(both[k], released[k])


def test_degenerate_batches():
    batch = make_batch(2, 4, 5, 9, 9, 3, 3, seed=71)
    no_annotation = batch[:2] + (torch.full_like(batch[2], IGNORE),) + batch[3:]
    assert check(no_annotation) == 0
    check(make_batch(2, 4, 5, 9, 9, 3, 3, seed=72, n_classes=1), enabled=False)


def test_mutation_without_the_weights_fails(monkeypatch):
    """The same code without the 1 / n_k weights is the released mean: the check must fail."""
    def unweighted(logits, targets, valid, ignore_value):
        targets = torch.where(valid, targets, torch.full_like(targets, ignore_value))
        return torch.nn.functional.cross_entropy(logits, targets, ignore_index=ignore_value)

    monkeypatch.setattr(agmm_loss_module, "balanced_partial_ce", unweighted)
    with pytest.raises(AssertionError):
        check(make_batch(3, 5, 4, 13, 11, 4, 3, seed=70, density=0.3))
