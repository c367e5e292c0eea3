"""The bridge on numpy alone: loading and refusing libraries, config, errors, NaN checks, the TRL
reward form, and every differentiable built-in's backward against central finite differences.

Libraries come from the environment (the Swift test suite sets them) or, by hand, from the build:
WORKBENCH_BUILTINS (libworkbench_builtins.so), WORKBENCH_NEGSIGNAL (libnegsignal.so),
WORKBENCH_C_EXAMPLE (plugins/c-example's library), WORKBENCH_FIXTURES (a JSON object: fixture
name -> library, from Tests/HostTests/Fixtures).

    python -m unittest discover -s python/tests
"""
import json
import os
import sys
import unittest

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
import workbench_plugins as wp  # noqa: E402
from workbench_plugins.trl import WorkbenchReward  # noqa: E402

BUILTINS = os.environ.get("WORKBENCH_BUILTINS", os.path.join(ROOT, ".build/release/libworkbench_builtins.so"))
NEGSIGNAL = os.environ.get("WORKBENCH_NEGSIGNAL", os.path.join(ROOT, ".build/release/libnegsignal.so"))
C_EXAMPLE = os.environ.get("WORKBENCH_C_EXAMPLE", os.path.join(ROOT, "plugins/c-example/libexample.so"))
FIXTURES = json.loads(os.environ.get("WORKBENCH_FIXTURES", "{}"))


def fixture(name):
    if name not in FIXTURES:
        raise unittest.SkipTest(f"fixture {name} not built (the Swift test suite builds it: PythonBridgeTests)")
    return FIXTURES[name]


def need(path):
    if not os.path.exists(path):
        raise unittest.SkipTest(f"{path} is not built (swift build -c release; make -C plugins/c-example)")
    return path


class Loading(unittest.TestCase):
    def test_builtins_list_every_plugin(self):
        lib = wp.PluginLibrary(need(BUILTINS))
        self.assertEqual([d.id for d in lib.descriptors], [
            "org.workbench.reward.exact", "org.workbench.reward.reft-partial", "org.workbench.reward.equation-checked",
            "org.workbench.reward.carft-embedding", "org.workbench.pooling.softmax-values", "org.workbench.pooling.mean",
            "org.workbench.pooling.last", "org.workbench.contrastive.infonce-positive", "org.workbench.contrastive.lcs-negative"])
        info = lib.plugin("org.workbench.contrastive.infonce-positive")
        self.assertEqual(info.kind, "contrastive")
        self.assertEqual([(k.name, k.type, k.default) for k in info.config_keys][:2], [("similarity", "string", "cosine"), ("tau", "float", "0.2")])
        self.assertEqual(info.config_keys[0].choices, ("cosine", "dot"))
        self.assertEqual(info.gradient_check_config(), {"detach-denominator": "false"})

    def test_missing_file_and_non_plugin_are_refused(self):
        with self.assertRaisesRegex(wp.PluginError, r"no plugin library at /nowhere/libx.so; build it first"):
            wp.PluginLibrary("/nowhere/libx.so")
        with self.assertRaisesRegex(wp.PluginError, r"exports no workbench_plugin_entry_v1: it is not a workbench plugin library"):
            wp.PluginLibrary(fixture("no_entry"))
        with self.assertRaisesRegex(wp.PluginError, r"exports no workbench_plugin_entry_v1"):
            wp.PluginLibrary(fixture("wrong_major"))
        with self.assertRaisesRegex(wp.PluginError, r"org.fixture.pooling.no-backward .*lacks backward"):
            wp.PluginLibrary(fixture("missing_function"))

    def test_plugin_choice_and_kind(self):
        lib = wp.PluginLibrary(need(C_EXAMPLE))
        self.assertEqual(lib.plugin(kind="reward").id, "org.example.reward.format-aware")
        with self.assertRaisesRegex(wp.PluginError, r"has 2 plugins \(org.example.reward.format-aware, org.example.contrastive.triplet\); pass id=... to pick one"):
            lib.plugin()
        with self.assertRaisesRegex(wp.PluginError, r"is a contrastive plugin, not a reward"):
            wp.Reward(C_EXAMPLE, "org.example.contrastive.triplet")
        with self.assertRaisesRegex(wp.PluginError, r"has no plugin org.example.nope \(it has: org.example.reward.format-aware, org.example.contrastive.triplet\)"):
            wp.Reward(C_EXAMPLE, "org.example.nope")


class Config(unittest.TestCase):
    def test_defaults_types_and_underscores(self):
        c = wp.Contrastive(need(BUILTINS), "org.workbench.contrastive.infonce-positive", tau=0.1, detach_denominator=False)
        self.assertEqual(dict(c.config), {"similarity": "cosine", "tau": "0.1", "positive-clamp": "0.9",
                                          "detach-denominator": "false", "reduction": "mean"})
        self.assertEqual(c.view_sources, ["annotated", "rollout"])

    def test_bad_values_and_unknown_keys_name_the_fix(self):
        with self.assertRaisesRegex(wp.PluginError, r"config tau='abc' is not valid; give a finite number"):
            wp.Contrastive(need(BUILTINS), "org.workbench.contrastive.infonce-positive", tau="abc")
        with self.assertRaisesRegex(wp.PluginError, r"config similarity='l2' is not valid; give cosine\|dot"):
            wp.Contrastive(BUILTINS, "org.workbench.contrastive.infonce-positive", similarity="l2")
        with self.assertRaisesRegex(wp.PluginError, r"no config key 'temperature' \(its keys: similarity, tau, "):
            wp.Contrastive(BUILTINS, "org.workbench.contrastive.infonce-positive", temperature=1)
        with self.assertRaisesRegex(wp.PluginError, r"config tau=nan is not valid"):
            wp.Contrastive(BUILTINS, "org.workbench.contrastive.infonce-positive", tau=float("nan"))
        for text in ["1_000", " 0.2", "0x1p3", "inf", "1e", "."]:  # what strtof or float() would read otherwise
            with self.assertRaisesRegex(wp.PluginError, r"is not valid; give a finite number"):
                wp.Contrastive(BUILTINS, "org.workbench.contrastive.infonce-positive", tau=text)
        for text in ["2", "+0.5", ".5", "5.", "1e-3", "2E+2"]:
            wp.Contrastive(BUILTINS, "org.workbench.contrastive.infonce-positive", tau=text).close()

    def test_no_call_after_close(self):
        r = wp.Reward(need(BUILTINS), "org.workbench.reward.exact")
        r.close()
        r.close()  # twice is harmless
        with self.assertRaisesRegex(wp.PluginError, r"score after close\(\); create a new instance"):
            r.score(["q"], ["a"], [1])

    def test_the_plugins_own_create_error_is_shown(self):
        with self.assertRaisesRegex(wp.PluginError, r"plugin org.example.contrastive.negsignal: create failed with WB_ERROR_CONFIG: tau is -1; the temperature must be > 0"):
            wp.Contrastive(need(NEGSIGNAL), tau=-1)
        with self.assertRaisesRegex(wp.PluginError, r"create failed with WB_ERROR.*cannot open the answer table /nowhere/answers.tsv"):
            wp.Reward(fixture("create_error"))


class Rewards(unittest.TestCase):
    completions = ["4 + 4 = 8\nTherefore, the answer is: 8", "4 + 4 = 9\nTherefore, the answer is: 9",
                   "Therefore, the answer is: 1,234.5", "I do not know"]

    def test_reft_partial_scores(self):
        r = wp.Reward(need(BUILTINS), "org.workbench.reward.reft-partial", partial=0.25)
        np.testing.assert_array_equal(r.score(["q"] * 4, self.completions, [8, 8, 1234.5, 8]), np.float32([1, 0.25, 1, 0]))

    def test_equation_check_sees_the_wrong_line(self):
        r = wp.Reward(need(BUILTINS), "org.workbench.reward.equation-checked")
        s = r.score(["q"], ["4 + 4 = 9\nTherefore, the answer is: 8"], [8])
        self.assertLess(s[0], 1)

    def test_nan_is_refused_naming_the_plugin(self):
        r = wp.Reward(fixture("nan_output"), "org.fixture.reward.nan")
        with self.assertRaisesRegex(wp.PluginError, r"plugin org.fixture.reward.nan's score wrote nan at flat index 2; a plugin's outputs must be finite"):
            r.score(["q"] * 3, ["a"] * 3, [1, 2, 3])

    def test_trl_form_reads_gsm8k_answers_and_conversations(self):
        reward = WorkbenchReward(need(BUILTINS), id="org.workbench.reward.reft-partial")
        self.assertEqual(reward.__name__, "reft-partial")
        prompts = [[{"role": "user", "content": "What is 4 + 4?"}]] * 2
        completions = [[{"role": "assistant", "content": self.completions[0]}], [{"role": "assistant", "content": self.completions[1]}]]
        scores = reward(prompts=prompts, completions=completions, answer=["4 + 4 = <<4+4=8>>8\n#### 8", "8"])
        self.assertEqual(scores, [1.0, np.float32(0.1)])
        with self.assertRaisesRegex(KeyError, r"gold answers in the dataset column 'answer' \(columns TRL passed: solution\)"):
            reward(prompts=["q"], completions=["x"], solution=["8"])
        with self.assertRaisesRegex(ValueError, r"'answer' column, row 0, holds 'eight', which is not a number"):
            reward(prompts=["q"], completions=["x"], answer=["eight"])

    def test_metrics_are_collected(self):
        r = wp.Reward(need(C_EXAMPLE), "org.example.reward.format-aware")
        r.score(["q"] * 2, self.completions[:2], [8, 8])
        self.assertIsInstance(r.take_metrics(), dict)


def finite_difference_check(test, f, x, analytic, eps=1e-2, rtol=3e-2, atol=2e-3, samples=40, seed=0):
    """Central differences of scalar f at `samples` random coordinates of x against `analytic`."""
    rng = np.random.default_rng(seed)
    flat = x.reshape(-1)
    for i in rng.choice(flat.size, size=min(samples, flat.size), replace=False):
        old = flat[i]
        flat[i] = old + eps
        up = f(x)
        flat[i] = old - eps
        down = f(x)
        flat[i] = old
        numeric = (up - down) / (2 * eps)
        a = analytic.reshape(-1)[i]
        test.assertLess(abs(numeric - a), atol + rtol * max(abs(numeric), abs(a)), f"coordinate {i}: numeric {numeric}, backward {a}")


class Gradients(unittest.TestCase):
    """Every differentiable plugin reachable here: backward against finite differences of forward."""

    def batch(self, seed=1, b=3, t=6, d=4):
        rng = np.random.default_rng(seed)
        tokens = rng.normal(size=(b, t, d))
        values = rng.normal(size=(b, t))
        mask = (rng.random((b, t)) < 0.7).astype(np.uint8)
        mask[:, 0] = 1
        mask[2] = 0  # an all-masked row: zero embedding, zero gradient
        return tokens, values, mask, rng.normal(size=(b, d))

    def test_poolings(self):
        for pid in ["org.workbench.pooling.softmax-values", "org.workbench.pooling.mean", "org.workbench.pooling.last"]:
            with self.subTest(pid):
                p = wp.Pooling(need(BUILTINS), pid)
                tokens, values, mask, g = self.batch()
                out = p.forward(tokens, values, mask)
                np.testing.assert_array_equal(out[2], 0)
                gt, gv = p.backward(tokens, values, mask, g)
                np.testing.assert_array_equal(gt[2], 0)
                finite_difference_check(self, lambda x: float(np.sum(p.forward(x, values, mask) * g)), tokens, gt)
                finite_difference_check(self, lambda v: float(np.sum(p.forward(tokens, v, mask) * g)), values, gv)

    def contrastive_cases(self):
        yield wp.Contrastive(need(BUILTINS), "org.workbench.contrastive.infonce-positive", detach_denominator=False)
        yield wp.Contrastive(BUILTINS, "org.workbench.contrastive.infonce-positive", similarity="dot", positive_clamp=1,
                             detach_denominator=False, reduction="sum")
        yield wp.Contrastive(BUILTINS, "org.workbench.contrastive.lcs-negative", detach_denominator=False)
        yield wp.Contrastive(need(NEGSIGNAL), detach_denominator=False)
        yield wp.Contrastive(need(C_EXAMPLE), "org.example.contrastive.triplet")

    def test_contrastive_losses(self):
        rng = np.random.default_rng(3)
        for c in self.contrastive_cases():
            with self.subTest(repr(c)):
                b, d = 5, 4
                views = [rng.normal(size=(b, d)) for _ in range(c.view_count)]
                rewards = np.float32([1, 0, 1, 0.1, 1])
                valid = np.uint8([1, 1, 1, 1, 0])
                grads = c.backward(views, rewards, valid, grad_loss=0.7)
                for v in range(c.view_count):
                    np.testing.assert_array_equal(grads[v][4], 0)
                    finite_difference_check(self, lambda x: 0.7 * c.forward(views[:v] + [x] + views[v + 1:], rewards, valid),
                                            views[v], grads[v])
                self.assertTrue(any(np.any(g != 0) for g in grads), "every gradient is zero: the check would pass vacuously")

    def test_nan_gradient_is_refused(self):
        p = wp.Pooling(fixture("nan_output"), "org.fixture.pooling.nan-grad")
        tokens, values, mask, g = self.batch(b=3, t=8)
        with self.assertRaisesRegex(wp.PluginError, r"org.fixture.pooling.nan-grad's backward \(value gradients\) wrote nan at flat index 17"):
            p.backward(tokens, values, mask, g)

    def test_a_wrong_gradient_fails_the_check(self):
        # The check itself can fail: a pooling whose gradient is twice too large.
        p = wp.Pooling(fixture("nan_output"), "org.fixture.pooling.double-grad")
        tokens, values, mask, g = self.batch()
        gt, _ = p.backward(tokens, values, mask, g)
        with self.assertRaises(AssertionError):
            finite_difference_check(self, lambda x: float(np.sum(p.forward(x, values, mask) * g)), tokens, gt)


class Selection(unittest.TestCase):
    def test_infonce_views_are_the_cot_masks(self):
        c = wp.Contrastive(need(BUILTINS), "org.workbench.contrastive.infonce-positive")
        rng = np.random.default_rng(5)
        r_ids, a_ids = rng.integers(0, 50, (2, 7)), rng.integers(0, 50, (2, 5))
        r_present, a_present = np.ones((2, 7)), np.ones((2, 5))
        r_cot = (rng.random((2, 7)) < 0.5).astype(np.uint8)
        a_cot = (rng.random((2, 5)) < 0.5).astype(np.uint8)
        masks = c.select(r_ids, r_present, r_cot, a_ids, a_present, a_cot)
        np.testing.assert_array_equal(masks[0], a_cot)
        np.testing.assert_array_equal(masks[1], r_cot)


if __name__ == "__main__":
    unittest.main()
