"""Rollout sampling in Hugging Face transformers, the peer of `workbench bench rollout`.

TRL's GRPOTrainer and PPOTrainer make their rollouts with `model.generate` on the unwrapped
policy (no vLLM on CPU), so this times exactly that call: a freshly initialised
LlamaForCausalLM of the same shape as workbench's tiny preset (4 layers, width 128, 4 heads,
FFN 352, byte vocabulary 258, tied head), pure sampling at temperature 1 (top-k and top-p off),
every row forced to make --new-tokens tokens (EOS suppressed), KV cache on, float32, CPU.
Prints one JSON line per measurement, in the same fields as `workbench bench rollout`.
"""
import argparse
import json
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--prompt-tokens", type=int, default=60)
    p.add_argument("--new-tokens", type=int, default=100)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    vocab = 258
    config = LlamaConfig(vocab_size=vocab, hidden_size=128, intermediate_size=352, num_hidden_layers=4,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=320,
                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
                         bos_token_id=None, eos_token_id=None, pad_token_id=0)
    model = LlamaForCausalLM(config).eval()
    for rows in (a.batch, 1):
        prompts = torch.randint(0, vocab, (rows, a.prompt_tokens))
        best, made = float("inf"), 0
        for _ in range(max(1, a.repeats)):
            start = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(prompts, attention_mask=torch.ones_like(prompts), do_sample=True,
                                     temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=a.new_tokens,
                                     min_new_tokens=a.new_tokens, use_cache=True)
            best = min(best, time.perf_counter() - start)
            made = (out.shape[1] - a.prompt_tokens) * rows
        print(json.dumps({"engine": "transformers", "prompts": rows, "new_tokens": made,
                          "tokens_per_sec": round(made / best, 1), "seconds": round(best, 3)}), flush=True)


if __name__ == "__main__":
    main()
