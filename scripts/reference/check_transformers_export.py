#!/usr/bin/env python3
"""Checks a `workbench export` folder against Hugging Face transformers itself: the model is
loaded with AutoModelForCausalLM (and the tokenizer with AutoTokenizer, when the export has
one), and compared with the engine on the same folder, which reads an export like any
checkpoint. Needs torch and transformers, so it is run by hand, never in CI:

  ~/.cache/workbench/bench-venv/bin/python scripts/reference/check_transformers_export.py EXPORT_DIR \
      [--workbench .build/release/workbench] [--new-tokens 32] [--tolerance 1e-4] [--adapter PEFT_DIR]

With --adapter, EXPORT_DIR is the export of a LoRA run's base and PEFT_DIR the export of its
adapters (`workbench export <adapter folder>`): transformers runs
PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(EXPORT_DIR), PEFT_DIR) (needs
peft), and the engine opens PEFT_DIR itself (its base merged with the adapters).

For each prompt (plain text, and as the user turn of the chat template when the export has one):
  - token ids: the engine's encoding vs AutoTokenizer (apply_chat_template for chat prompts);
  - first-token logits: max |engine - transformers| over the vocabulary, on the engine's ids;
  - greedy continuation: the engine's tokens vs model.generate(do_sample=False), which stops at
    generation_config.json's eos, and the decoded texts.
The engine side comes from `workbench logits` (a JSON protocol, see `workbench logits --help`).
Exits 1 when any ids or tokens differ or a logit differs by more than --tolerance.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

from logits_protocol import CHAT, PLAIN, engine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("export_dir")
    ap.add_argument("--workbench", default=os.path.join(ROOT, ".build/release/workbench"))
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest accepted |logit difference|")
    ap.add_argument("--adapter", help="a PEFT adapter folder (an exported LoRA run) to put on the model")
    args = ap.parse_args()
    folder = os.path.abspath(args.export_dir)
    torch.set_num_threads(1)  # the machine is usually busy training; small products gain nothing from threads

    print(f"transformers {transformers.__version__}, torch {torch.__version__}; export {folder}")
    model = AutoModelForCausalLM.from_pretrained(folder)
    engine_folder = folder
    if args.adapter:
        from peft import PeftModel
        import peft
        engine_folder = os.path.abspath(args.adapter)
        model = PeftModel.from_pretrained(model, engine_folder)
        print(f"peft {peft.__version__}: adapters {engine_folder} on the export")
    model.eval()
    print(f"model: {type(model).__name__}, dtype {model.dtype}, {sum(p.numel() for p in model.parameters())} parameters")
    has_tokenizer = os.path.exists(os.path.join(folder, "tokenizer.json"))
    tok = AutoTokenizer.from_pretrained(folder) if has_tokenizer else None
    if tok is not None:
        print(f"tokenizer: {type(tok).__name__}, {len(tok)} tokens, eos {tok.eos_token!r}, chat template {'yes' if tok.chat_template else 'no'}")
    else:
        print("tokenizer: none in the export; the engine's ids are used on both sides")

    groups = [(False, PLAIN)]
    if tok is not None and tok.chat_template:
        groups.append((True, CHAT))
    worst, failures, cases = 0.0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for chat, prompts in groups:
            logits_dir = os.path.join(tmp, "chat" if chat else "plain")
            os.makedirs(logits_dir)
            e = engine(args.workbench, engine_folder, prompts, chat, args.new_tokens, logits_dir)
            for i, text in enumerate(prompts):
                cases += 1
                label = f"{'chat' if chat else 'plain'} {i}"
                ids = e["prompt_ids"][i]
                if tok is not None:
                    if chat:
                        hf_ids = tok.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True, tokenize=True)
                        if hasattr(hf_ids, "keys"):  # transformers 5 returns a BatchEncoding here
                            hf_ids = hf_ids["input_ids"]
                    else:
                        hf_ids = tok(text)["input_ids"]
                    ids_equal = list(hf_ids) == ids
                else:
                    ids_equal = True
                x = torch.tensor([ids])
                with torch.no_grad():
                    hf_logits = model(x).logits[0, -1].float().numpy()
                    out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=args.new_tokens, do_sample=False)
                hf_tokens = out[0, len(ids):].tolist()
                mine = np.fromfile(os.path.join(logits_dir, f"{i}.f32"), dtype="<f4")
                diff = float(np.max(np.abs(mine - hf_logits)))
                worst = max(worst, diff)
                tokens_equal = hf_tokens == e["tokens"][i]
                text_equal = True
                if tok is not None:
                    text_equal = tok.decode(hf_tokens, skip_special_tokens=True) == e["texts"][i]
                ok = ids_equal and tokens_equal and text_equal and diff <= args.tolerance
                failures += not ok
                print(f"{label}: {len(ids)} prompt tokens, ids equal {ids_equal}, max |Δlogit| {diff:.3g} "
                      f"(max |logit| {float(np.max(np.abs(hf_logits))):.3g}), {len(hf_tokens)} greedy tokens equal {tokens_equal}, "
                      f"text equal {text_equal}{'' if ok else '  <-- MISMATCH'}")
                print(f"    engine: {e['texts'][i]!r}")
                if not tokens_equal:
                    print(f"    transformers: {tok.decode(hf_tokens) if tok else hf_tokens!r}")
    print(f"{cases} prompts: max |logit difference| {worst:.3g}; {cases - failures} of {cases} match "
          f"(ids, greedy tokens, text; logits within {args.tolerance:g})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
