#!/usr/bin/env python3
"""One LoRA training step in PyTorch + PEFT, timed: the peer of `workbench bench train-step
--init MODEL --lora-rank R` on the same shape (batch x seq random tokens from the model's
vocabulary, mean next-token cross-entropy over every position, AdamW on the adapters only).

  python bench/torch_peft_step.py --model HF_DIR --rank 16 --batch 8 --seq 256 [--dtype bfloat16]

HF_DIR is the model as transformers loads it (`workbench export model.gguf --out HF_DIR`). The
adapters sit on q, k, v, o, gate, up and down with alpha = rank and no dropout, as the engine's
defaults. --dtype bfloat16 loads the frozen base in bf16 (PEFT keeps the adapters in float32),
the counterpart of the engine's --frozen-weights bf16. Prints one JSON line.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dtype = torch.float32 if a.dtype == "float32" else torch.bfloat16
    model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=dtype)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    model = get_peft_model(model, LoraConfig(r=a.rank, lora_alpha=a.rank, lora_dropout=0.0, target_modules=targets))
    model.train()
    vocab = model.config.vocab_size
    data = torch.randint(0, vocab, (a.batch, a.seq + 1))
    tokens, labels = data[:, :-1], data[:, 1:]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(input_ids=tokens).logits
        loss = F.cross_entropy(logits.float().reshape(-1, vocab), labels.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    first = last = None
    for i in range(a.warmup):
        v = step()
        first = v if i == 0 else first
    start = time.perf_counter()
    for i in range(a.steps):
        last = step()
        if a.warmup == 0 and i == 0:
            first = last
    secs = time.perf_counter() - start
    print(json.dumps({
        "engine": "pytorch+peft", "dtype": a.dtype, "torch": torch.__version__,
        "tokens_per_sec": round(a.batch * a.seq * a.steps / secs, 1), "step_ms": round(secs / a.steps * 1000, 2),
        "loss_first": round(first, 4), "loss_last": round(last, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6),  # MB, as the engine counts
    }))


if __name__ == "__main__":
    main()
