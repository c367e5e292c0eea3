#!/usr/bin/env python3
"""What CARFT's embedding learned, per variant: the contrastive loss (before c) and the AUC with
which the cosine of a rollout's pooled CoT to its annotated CoT separates correct from wrong
rollouts, averaged over the first and the last ten updates of every seed's run, with the
seed-to-seed range; and how hard the contrastive term pushed the policy over the last ten
updates, as its gradient on the final hidden states against the policy term's
(grad_hidden_contrastive / grad_hidden_policy). Reads a comparison folder's metrics.jsonl files
(standard library only).

    python3 docs/results/carft_embedding_table.py runs/carft-weight
"""
import glob
import json
import os
import sys


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def stretch(rows, key, first):
    values = [r[key] for r in rows if r.get(key) is not None]
    part = values[:10] if first else values[-10:]
    return mean(part) if part else None


def ratio(a, b):
    return a / b if a is not None and b else None


def main(folder):
    print("| variant | seeds | contrastive loss, updates 1-10 | last 10 | AUC, updates 1-10 | last 10 | cos correct (last 10) | cos wrong (last 10) | contrastive / policy gradient (last 10) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for variant in sorted(os.listdir(folder)):
        runs = sorted(glob.glob(os.path.join(folder, variant, "seed-*", "metrics.jsonl")))
        per_seed = []
        for path in runs:
            rows = []
            for line in open(path):
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if r.get("kind") == "update":
                    rows.append(r)
            if len(rows) < 20 or rows[0].get("embed_auc") is None:
                continue
            per_seed.append({
                "c0": stretch(rows, "contrastive_loss", True), "c1": stretch(rows, "contrastive_loss", False),
                "a0": stretch(rows, "embed_auc", True), "a1": stretch(rows, "embed_auc", False),
                "cc": stretch(rows, "embed_cos_correct", False), "cw": stretch(rows, "embed_cos_wrong", False),
                "g": ratio(stretch(rows, "grad_hidden_contrastive", False), stretch(rows, "grad_hidden_policy", False)),
            })
        if not per_seed:
            continue

        def cell(k, fmt="%.3f"):
            xs = [s[k] for s in per_seed if s[k] is not None]
            return (fmt % mean(xs)) + (" [" + fmt % min(xs) + ", " + fmt % max(xs) + "]" if len(xs) > 1 else "")
        gradient = cell("g", "%.3g") if any(s["g"] is not None for s in per_seed) else "not logged"
        print("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (variant, len(per_seed), cell("c0"), cell("c1"), cell("a0"), cell("a1"),
                                                                cell("cc", "%.4f"), cell("cw", "%.4f"), gradient))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/carft-weight")
