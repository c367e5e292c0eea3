"""TRL's GRPOTrainer, timed per update, on the shape `bench/rl_update.sh` gives workbench.

One update = generate `--group` completions for each of `--prompts` prompts (every row exactly
`--new-tokens` tokens: min_new_tokens = max), score them, one optimiser step on all rows (one
epoch, loss_type "dr_grpo", no KL term, so no reference model), as workbench's Dr.GRPO update
does. The model is a fresh LlamaForCausalLM of the workbench tiny preset's shape (RMSNorm, RoPE,
SwiGLU, tied head); the tokenizer maps one character to one token over a 258-entry vocabulary,
the size of workbench's byte tokenizer. Prompts are random characters of `--prompt-tokens`.

Prints one JSON line: the median seconds of the timed updates (after `--warmup` untimed ones).
Run by bench/rl_update.sh in the venv bench/setup_torch.sh makes (plus `pip install trl`).
"""
import argparse
import json
import random
import statistics
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=352)
    ap.add_argument("--prompts", type=int, default=32, help="questions per update")
    ap.add_argument("--group", type=int, default=2, help="completions per question")
    ap.add_argument("--prompt-tokens", type=int, default=80)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--updates", type=int, default=5, help="timed updates")
    ap.add_argument("--warmup", type=int, default=1, help="untimed updates first")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch
    import trl
    from datasets import Dataset
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, decoders
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    # One token per character: 256 byte-valued characters, then <pad> and <eos> (258, as workbench).
    vocab = {chr(i): i for i in range(256)}
    vocab["<pad>"], vocab["<eos>"] = 256, 257
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")
    tokenizer.padding_side = "left"
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=258, hidden_size=args.dim, intermediate_size=args.ffn, num_hidden_layers=args.layers,
        num_attention_heads=args.heads, num_key_value_heads=args.heads, max_position_embeddings=512,
        tie_word_embeddings=True, pad_token_id=256, eos_token_id=257, bos_token_id=None))

    rng = random.Random(args.seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 +-*=."
    steps = args.warmup + args.updates
    rows = [{"prompt": "".join(rng.choice(alphabet) for _ in range(args.prompt_tokens))}
            for _ in range(args.prompts * steps)]

    def reward(completions, **kw):  # cheap, like workbench's equation check: digits in the text
        return [sum(ch.isdigit() for ch in c) / max(1, len(c)) for c in completions]

    times, started = [], [0.0]

    class Clock(TrainerCallback):
        def on_step_begin(self, *a, **kw):
            started[0] = time.perf_counter()

        def on_step_end(self, *a, **kw):
            times.append(time.perf_counter() - started[0])

    batch = args.prompts * args.group
    with tempfile.TemporaryDirectory() as out:
        config = GRPOConfig(
            output_dir=out, per_device_train_batch_size=batch, num_generations=args.group,
            gradient_accumulation_steps=1, num_iterations=1, max_completion_length=args.new_tokens,
            generation_kwargs={"min_new_tokens": args.new_tokens}, max_steps=steps, learning_rate=1e-5,
            loss_type="dr_grpo", beta=0.0, temperature=1.0, use_cpu=True, bf16=False, report_to="none",
            save_strategy="no", logging_steps=1, disable_tqdm=True, seed=args.seed, log_completions=False,
            dataloader_num_workers=0, shuffle_dataset=False)
        trainer = GRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=[reward], args=config,
                              train_dataset=Dataset.from_list(rows), callbacks=[Clock()])
        trainer.train()
    timed = times[args.warmup:]
    lengths = [e["completions/mean_length"] for e in trainer.state.log_history if "completions/mean_length" in e]
    print(json.dumps({"engine": "trl", "trl": trl.__version__, "torch": torch.__version__, "threads": args.threads,
                      "rows": batch, "new_tokens": args.new_tokens, "mean_completion_length": lengths[-1] if lengths else None,
                      "updates": len(timed), "seconds_per_update": statistics.median(timed), "all_seconds": times}))


if __name__ == "__main__":
    sys.exit(main())
