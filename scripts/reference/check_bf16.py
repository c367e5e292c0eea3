#!/usr/bin/env python3
"""What holding a model's weights in bf16 or int8 costs in accuracy: the engine with --frozen-weights
bf16 (or int8, with --precision int8) against itself in float32, on the reference prompts (plain, and chat when the model has a
template): the first-token logits (max |difference|, relative to the largest logit, and whether
the top token is the same) and the greedy continuation (how many tokens agree before the first
difference, of the float32 run's, which stops at EOS). Standard library only; run by hand on a real model:

  python3 scripts/reference/check_bf16.py MODEL [--precision bf16|int8] [--workbench .build/release/workbench] [--new-tokens 32]

MODEL is a .gguf file or a checkpoint folder.
"""
import argparse
import array
import os
import tempfile

from logits_protocol import CHAT, PLAIN, engine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--workbench", default=os.path.join(ROOT, ".build/release/workbench"))
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--precision", choices=["bf16", "int8"], default="bf16", help="the --frozen-weights to check (default bf16)")
    args = ap.parse_args()
    print("| prompt | max \\|Δ logit\\| | largest \\|logit\\| | same top token | greedy tokens equal | of |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for chat, prompts in [(False, PLAIN), (True, CHAT)]:
            runs = {}
            for precision in ["float32", args.precision]:
                folder = os.path.join(tmp, f"{precision}-{chat}")
                os.makedirs(folder)
                reply = engine(args.workbench, args.model, prompts, chat, args.new_tokens, folder, ("--frozen-weights", precision))
                runs[precision] = (reply, folder)
            (a, fa), (b, fb) = runs["float32"], runs[args.precision]
            for i, text in enumerate(prompts):
                x = array.array("f", open(os.path.join(fa, f"{i}.f32"), "rb").read())
                y = array.array("f", open(os.path.join(fb, f"{i}.f32"), "rb").read())
                diff = max(abs(p - q) for p, q in zip(x, y))
                top = max(range(len(x)), key=x.__getitem__) == max(range(len(y)), key=y.__getitem__)
                ta, tb = a["tokens"][i], b["tokens"][i]
                agree = next((k for k, (p, q) in enumerate(zip(ta, tb)) if p != q), min(len(ta), len(tb)))
                label = ("chat: " if chat else "") + text.replace("\n", " ")[:40]
                print(f"| {label} | {diff:.3g} | {max(abs(v) for v in x):.3g} | {'yes' if top else 'no'} | {agree} | {len(ta)} |")


if __name__ == "__main__":
    main()
