"""TRL's GRPOTrainer with a workbench reward plugin: the C example's format-aware reward
(plugins/c-example) scores every completion through the bridge, exactly as `workbench rl` would.

    make -C plugins/c-example
    pip install ./python trl          # torch and transformers come with trl
    python python/examples/trl_grpo_reward.py [--steps 4] [--library plugins/c-example/libexample.so]

Everything runs offline on the CPU in about a minute: the model is a tiny Llama and a tokenizer
trained on the questions here, warmed up by a few seconds of supervised training so that it writes
the answer line (and the plugin's rewards differ within a group, which GRPO needs). Give --model a
Hugging Face folder (e.g. one `workbench export` wrote) to train a real model the same way.
"""
import argparse
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from workbench_plugins import WorkbenchReward  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def questions(n, seed=0):
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        rows.append({"prompt": f"Question:\nTom has {a} apples and buys {b} more. How many apples does he have?\nAnswer reasoning:\n",
                     "answer": str(a + b), "sum": f"{a} + {b}"})
    return rows


def completion(answer, a_plus_b):
    return f"{a_plus_b} = {answer}\nTherefore, the answer is: {answer}"


def warm_up(model, tokenizer, rows, steps=150):
    """Plain next-token SFT on the prompts and their worked answers (torch only)."""
    import torch
    texts = [r["prompt"] + completion(r["answer"], r["sum"]) + tokenizer.eos_token for r in rows]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    rng = random.Random(1)
    model.train()
    for step in range(steps):
        batch = tokenizer(rng.sample(texts, 16), return_tensors="pt", padding=True)
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        loss = model(**batch, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    print(f"warm-up: {steps} SFT steps, last loss {loss.item():.3f}")


def tiny_model(rows):
    """A 2-layer Llama and a byte-level BPE tokenizer trained on the prompts, both random but real."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = [r["prompt"] + completion(r["answer"], r["sum"]) for r in rows]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<eos>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>")
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    return LlamaForCausalLM(config), tokenizer


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", default=os.path.join(ROOT, "plugins/c-example/libexample.so"))
    ap.add_argument("--id", default="org.example.reward.format-aware")
    ap.add_argument("--model", help="a Hugging Face causal-LM folder (default: a tiny random Llama)")
    ap.add_argument("--steps", type=int, default=4)
    args = ap.parse_args()

    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    torch.manual_seed(0)
    rows = questions(64)
    if args.model:
        model, tokenizer = AutoModelForCausalLM.from_pretrained(args.model), AutoTokenizer.from_pretrained(args.model)
    else:
        model, tokenizer = tiny_model(rows)
        warm_up(model, tokenizer, rows)
    # The plugin, its config checked against its declared keys; gold answers from the "answer" column.
    reward = WorkbenchReward(args.library, id=args.id, partial=0.1, max_chars=200)
    print(f"reward plugin: {reward!r}")

    calls, samples = [], []

    def logged(prompts, completions, **kw):
        scores = reward(prompts, completions, **kw)
        calls.append(scores)
        samples.append(completions[0])
        return scores
    logged.__name__ = reward.__name__

    with tempfile.TemporaryDirectory() as out:
        config = GRPOConfig(output_dir=out, per_device_train_batch_size=8, num_generations=8, max_completion_length=24,
                            max_steps=args.steps, learning_rate=1e-4, logging_steps=1, report_to="none", use_cpu=True,
                            save_strategy="no", beta=0.0, seed=0, disable_tqdm=True, temperature=1.0, log_completions=False)
        trainer = GRPOTrainer(model=model, processing_class=tokenizer, reward_funcs=[logged], args=config,
                              train_dataset=Dataset.from_list(rows))
        trainer.train()
    print(f"a completion: {samples[-1]!r}")
    for i, scores in enumerate(calls):
        print(f"reward call {i + 1}: {len(scores)} completions scored by {args.id}: {[round(s, 2) for s in scores]}")
    print(f"plugin metrics (mean per name): {reward.reward.take_metrics()}")
    for entry in trainer.state.log_history:
        if "reward" in entry:
            print(f"step {entry.get('step')}: reward {entry['reward']:.3f}, loss {entry.get('loss', float('nan')):.4f}")


if __name__ == "__main__":
    main()
