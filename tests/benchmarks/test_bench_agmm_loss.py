"""benchmarks/bench_agmm_loss.py times agmm_loss against a plain vectorisation of the AGMM terms
(agmm_benchmarks.vectorised_agmm_loss); that baseline computes the same values and gradients.
The loss's own references (loops written from docs/method.md) are in
tests/modeling/test_agmm_loss.py, which imports nothing from the benchmarks."""
import torch

from agmm_benchmarks.vectorised_agmm_loss import vectorised_agmm_loss
from agmm_d2.modeling.agmm_loss import agmm_loss
from tests.modeling.test_agmm_loss import KEYS, grads, make_batch


def test_benchmark_baseline_matches():
    # The benchmark's speed-up is against a plain vectorisation; it must compute the same terms.
    batch = make_batch(3, 5, 6, 29, 23, 8, 6, seed=19)
    features, logits = batch[0].requires_grad_(), batch[1].requires_grad_()
    fast = agmm_loss(*batch)
    plain = vectorised_agmm_loss(*batch)
    g_fast, g_plain = grads(fast, (features, logits)), grads(plain, (features, logits))
    for k in KEYS:
        torch.testing.assert_close(fast[k], plain[k], rtol=1e-5, atol=1e-9)
        for a, b in zip(g_fast[k], g_plain[k]):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-9)
