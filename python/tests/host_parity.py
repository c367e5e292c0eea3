"""Runs the cases the Swift test suite wrote (PythonBridgeTests: random inputs and what the workbench
host computed from them with the same plugin library) through the bridge and compares. The same
library does the arithmetic in both hosts, so outputs must be equal bit for bit; a difference means
the bridge passed something else (a layout, a stride, a config value, a gold answer's text).

    python host_parity.py cases.json
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import workbench_plugins as wp  # noqa: E402


def same(what, got, expected, dtype=np.float32):
    # Swift writes a Float as the shortest decimal that reads back as the same float32, so
    # float32 outputs compare as float32; the contrastive loss is a double.
    got, expected = np.asarray(got, dtype=dtype).reshape(-1), np.asarray(expected, dtype=dtype).reshape(-1)
    if got.shape != expected.shape or not np.array_equal(got, expected):
        worst = int(np.argmax(np.abs(got - expected))) if got.shape == expected.shape else -1
        detail = f"largest difference at {worst}: {got[worst]} vs {expected[worst]}" if worst >= 0 else f"sizes {got.size} vs {expected.size}"
        raise SystemExit(f"FAIL {what}: the bridge's output differs from the Swift host's ({detail})")


def run(case):
    kind, config = case["kind"], case["config"]
    label = f"{case['id']} {config}"
    if kind == "pooling":
        p = wp.Pooling(case["library"], case["id"], **config)
        b, t, d = case["shape"]
        tokens = np.float32(case["tokens"]).reshape(b, t, d)
        values = np.float32(case["values"]).reshape(b, t)
        mask = np.uint8(case["mask"]).reshape(b, t)
        same(f"{label} forward", p.forward(tokens, values, mask), case["expect"]["out"])
        gt, gv = p.backward(tokens, values, mask, np.float32(case["grad_out"]).reshape(b, d))
        same(f"{label} grad_tokens", gt, case["expect"]["grad_tokens"])
        same(f"{label} grad_values", gv, case["expect"]["grad_values"])
    elif kind == "contrastive":
        c = wp.Contrastive(case["library"], case["id"], **config)
        b, d, tr, ta = case["batch"], case["dim"], case["rollout_tokens"], case["annotated_tokens"]
        masks = c.select(np.int32(case["rollout_ids"]).reshape(b, tr), np.ones((b, tr)), np.uint8(case["rollout_cot"]).reshape(b, tr),
                         np.int32(case["annotated_ids"]).reshape(b, ta), np.ones((b, ta)), np.uint8(case["annotated_cot"]).reshape(b, ta))
        for v, (m, e) in enumerate(zip(masks, case["expect"]["masks"])):
            same(f"{label} select view {v}", m, e)
        views = [np.float32(v).reshape(b, d) for v in case["views"]]
        rewards, valid = np.float32(case["rewards"]), np.uint8(case["valid"])
        same(f"{label} loss", [c.forward(views, rewards, valid)], [case["expect"]["loss"]], dtype=np.float64)
        for v, (g, e) in enumerate(zip(c.backward(views, rewards, valid, grad_loss=case["grad_loss"]), case["expect"]["grad_views"])):
            same(f"{label} grad view {v}", g, e)
    else:
        r = wp.Reward(case["library"], case["id"], **config)
        n = len(case["completions"])
        emb = {}
        if "dim" in case:
            emb = {"rollout_embeddings": np.float32(case["rollout_embeddings"]).reshape(n, case["dim"]),
                   "annotated_embeddings": np.float32(case["annotated_embeddings"]).reshape(n, case["dim"])}
        same(f"{label} scores", r.score([case["question"]] * n, case["completions"], case["golds"], **emb), case["expect"]["scores"])


def main():
    cases = json.load(open(sys.argv[1]))
    for case in cases:
        run(case)
    print(f"{len(cases)} cases: the bridge gives the Swift host's outputs")


if __name__ == "__main__":
    main()
