"""torch.autograd.gradcheck on every differentiable plugin through workbench_plugins.autograd: the
built-in poolings and contrastive losses (libworkbench_builtins.so), libnegsignal.so and the C
example's triplet loss. Skipped where torch is not installed (CI has no torch); by hand:

    pip install torch && python -m unittest python/tests/test_torch_gradcheck.py -v

The plugins compute in float32, so the check runs on float64 inputs (rounded to float32 inside)
with float32-sized tolerances and step.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import torch
except ImportError:
    torch = None

from test_bridge import BUILTINS, C_EXAMPLE, NEGSIGNAL, need  # noqa: E402
import workbench_plugins as wp  # noqa: E402


@unittest.skipIf(torch is None, "torch is not installed")
class GradCheck(unittest.TestCase):
    tolerances = dict(eps=1e-3, atol=5e-3, rtol=5e-3)

    def setUp(self):
        from workbench_plugins import autograd
        self.autograd = autograd
        torch.manual_seed(0)

    def test_poolings(self):
        for pid in ["org.workbench.pooling.softmax-values", "org.workbench.pooling.mean", "org.workbench.pooling.last"]:
            with self.subTest(pid):
                p = wp.Pooling(need(BUILTINS), pid)
                tokens = torch.randn(3, 6, 4, dtype=torch.float64, requires_grad=True)
                values = torch.randn(3, 6, dtype=torch.float64, requires_grad=True)
                mask = (torch.rand(3, 6) < 0.7).to(torch.uint8)
                mask[:, 0] = 1
                self.assertTrue(torch.autograd.gradcheck(lambda t, v: self.autograd.pool(p, t, mask, v), (tokens, values),
                                                         **self.tolerances))

    def test_contrastive_losses(self):
        cases = [wp.Contrastive(need(BUILTINS), "org.workbench.contrastive.infonce-positive", detach_denominator=False),
                 wp.Contrastive(BUILTINS, "org.workbench.contrastive.infonce-positive", similarity="dot", positive_clamp=1,
                                detach_denominator=False, reduction="sum"),
                 wp.Contrastive(BUILTINS, "org.workbench.contrastive.lcs-negative", detach_denominator=False),
                 wp.Contrastive(need(NEGSIGNAL), detach_denominator=False),
                 wp.Contrastive(need(C_EXAMPLE), "org.example.contrastive.triplet")]
        rewards = torch.tensor([1, 0, 1, 0.1, 1.0])
        valid = torch.tensor([1, 1, 1, 1, 0], dtype=torch.uint8)
        for c in cases:
            with self.subTest(repr(c)):
                views = tuple(torch.randn(5, 4, dtype=torch.float64, requires_grad=True) for _ in range(c.view_count))
                self.assertTrue(torch.autograd.gradcheck(lambda *v: self.autograd.contrastive_loss(c, list(v), rewards, valid),
                                                         views, **self.tolerances))

    def test_a_pooled_carft_term_trains_end_to_end(self):
        # pool, then the loss: gradients reach the token embeddings through both plugins.
        p = wp.Pooling(need(BUILTINS), "org.workbench.pooling.mean")
        c = wp.Contrastive(BUILTINS, "org.workbench.contrastive.infonce-positive", detach_denominator=False)
        tokens = torch.randn(4, 5, 8, requires_grad=True)
        mask = torch.ones(4, 5, dtype=torch.uint8)
        pooled = self.autograd.pool(p, tokens, mask)
        annotated = torch.randn(4, 8)
        loss = self.autograd.contrastive_loss(c, [annotated, pooled], torch.tensor([1.0, 1, 0, 1]))
        loss.backward()
        self.assertEqual(tokens.grad.shape, tokens.shape)
        self.assertGreater(float(tokens.grad.abs().sum()), 0)


if __name__ == "__main__":
    unittest.main()
