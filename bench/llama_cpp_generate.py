#!/usr/bin/env python3
"""llama.cpp peer of `workbench bench generate`: greedy generation speed of a GGUF model
through llama-cpp-python, on the same questions, with the same thread count.

  llama_cpp_generate.py --model M.gguf [--prompts bench/generate_prompts.json] [--prompt chat|plain]
                        [--batch 16] [--single 4] [--new-tokens 128] [--threads 2] [--repeats 3]
                        [--flash-attn]

Prints three JSON lines on stdout, the same shape as the Swift command's:
  {"engine": "llama.cpp", "mode": "single_prompt" | "single_decode" | "batched", "rows": ...,
   "tokens": ..., "seconds": ..., "tokens_per_sec": ..., "prompts_fingerprint": ..., ...}

How it matches the workbench side:
- Prompts: each question laid out as ReFT's prompt (ReFTFormat.prompt in the Engine) and, with
  --prompt chat, rendered as the user's turn by the GGUF's own Jinja chat template, then
  tokenised by llama.cpp (special tokens parsed, no BOS added, as workbench does).
  "prompts_fingerprint" hashes the resulting token ids the way workbench does, so a table
  can check that both engines ran on the same tokens.
- Greedy (argmax of the logits) and EOS never ends a row: the loop below does not look at
  the tokens at all, so every row makes exactly --new-tokens tokens.
- single_prompt is from the start until the prompt's logits are ready; single_decode is the
  rest: --new-tokens - 1 single-token decodes (the first new token comes with the prompt).
  batched is all new tokens of --batch rows over the whole run, prompts included.
- Fastest of --repeats timed runs each, after one short untimed run.

Single-sequence runs use the context of a plain `Llama(...)`; batched runs use a second
context from the same model and parameters with n_seq_max = --batch and one sequence id
per row, as llama.cpp's `batched` example does (a llama_batch holding one token of every
row per step). Its KV cache is llama.cpp's default per-sequence layout (kv_unified false).
"""
import argparse
import ctypes
import json
import sys
import time

import numpy as np

try:
    import llama_cpp
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter
except ImportError as e:
    sys.exit(f"llama_cpp_generate.py: cannot import llama_cpp ({e}); create the venv with "
             "bench/generate.sh --setup and run this with its python")


def reft_prompt(question):
    # Must stay byte-identical to ReFTFormat.prompt (Sources/AnswerFormat/ReFTFormat.swift);
    # the fingerprint in the table catches any drift.
    return f"Question:\n{question}\nAnswer reasoning:\n"


def fingerprint(prompts):
    # FNV-1a 64 of "id,id,...\n" per prompt: BenchPrompts.fingerprint on the Swift side.
    h = 0xCBF29CE484222325
    for p in prompts:
        for byte in (",".join(str(t) for t in p) + "\n").encode():
            h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return format(h, "x")


def load_questions(path):
    try:
        with open(path, encoding="utf-8") as f:
            questions = json.load(f)["questions"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"llama_cpp_generate.py: cannot read the questions of {path} ({e}); "
                 'it should be {"questions": ["...", ...]}')
    if not questions or not all(isinstance(q, str) and q.strip() for q in questions):
        sys.exit(f"llama_cpp_generate.py: {path} needs a non-empty list of non-empty question strings")
    return questions


def encode_prompts(llm, questions, style):
    if style == "plain":
        texts = [reft_prompt(q) for q in questions]
    else:
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            sys.exit("llama_cpp_generate.py: --prompt chat needs a GGUF with tokenizer.chat_template")
        vocab_text = lambda t: llm._model.token_get_text(t) if t >= 0 else ""
        render = Jinja2ChatFormatter(template=template, eos_token=vocab_text(llm.token_eos()),
                                     bos_token=vocab_text(llm.token_bos()), add_generation_prompt=True)
        texts = [render(messages=[{"role": "user", "content": reft_prompt(q)}]).prompt for q in questions]
    return [llm.tokenize(t.encode("utf-8"), add_bos=False, special=True) for t in texts]


class Decoder:
    """Greedy decoding of several rows at once on one llama.cpp context, row r as sequence r."""

    def __init__(self, ctx, n_vocab, max_batch_tokens):
        self.ctx, self.n_vocab = ctx, n_vocab
        self.capacity = max_batch_tokens
        # Allocated once: the timed runs only fill it.
        self.batch = llama_cpp.llama_batch_init(max_batch_tokens, 0, 1)

    def close(self):
        llama_cpp.llama_batch_free(self.batch)

    def _fill(self, entries):
        # entries: (token, position, sequence, wants logits)
        b = self.batch
        assert len(entries) <= self.capacity
        for i, (tok, pos, seq, out) in enumerate(entries):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = tok, pos, 1, out
            b.seq_id[i][0] = seq
        b.n_tokens = len(entries)

    def _decode(self):
        rc = llama_cpp.llama_decode(self.ctx, self.batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc} (1: no room in the KV cache; raise n_ctx)")
        # The CPU backend may run the graph asynchronously; timings need it finished.
        llama_cpp.llama_synchronize(self.ctx)

    def _argmax(self, i):
        ptr = llama_cpp.llama_get_logits_ith(self.ctx, i)
        return int(np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).argmax())

    def run(self, prompts, new_tokens):
        """Returns (tokens per row, prompt seconds, decode seconds)."""
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.ctx), True)
        entries, last = [], []
        for r, p in enumerate(prompts):
            entries += [(t, i, r, i == len(p) - 1) for i, t in enumerate(p)]
            last.append(len(entries) - 1)
        start = time.perf_counter()
        self._fill(entries)
        self._decode()
        prompt_done = time.perf_counter()
        out = [[self._argmax(i)] for i in last]
        lengths = [len(p) for p in prompts]
        for _ in range(new_tokens - 1):
            self._fill([(row[-1], lengths[r] + len(row) - 1, r, True) for r, row in enumerate(out)])
            self._decode()
            for r, row in enumerate(out):
                row.append(self._argmax(r))
        end = time.perf_counter()
        return out, prompt_done - start, end - prompt_done


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the .gguf file")
    ap.add_argument("--prompts", default="bench/generate_prompts.json", help='JSON file {"questions": [...]}')
    ap.add_argument("--prompt", choices=["chat", "plain"], default="chat",
                    help="the question as a chat turn (default) or the ReFT text only")
    ap.add_argument("--batch", type=int, default=16, help="rows generated together in the batched measurement")
    ap.add_argument("--single", type=int, default=4, help="questions generated one at a time")
    ap.add_argument("--new-tokens", type=int, default=128, help="tokens per row, exactly (at least 2)")
    ap.add_argument("--threads", type=int, default=2, help="n_threads and n_threads_batch")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per measurement; the fastest counts")
    ap.add_argument("--flash-attn", action="store_true",
                    help="llama.cpp flash attention (off by default, llama-cpp-python's default)")
    a = ap.parse_args(argv)
    for name, low in (("batch", 1), ("single", 1), ("new_tokens", 2), ("threads", 1), ("repeats", 1)):
        if getattr(a, name) < low:
            ap.error(f"--{name.replace('_', '-')} must be at least {low}")

    questions = load_questions(a.prompts)
    # A first Llama only to read the prompts' lengths, which size the real context.
    probe = llama_cpp.Llama(model_path=a.model, n_ctx=256, n_threads=a.threads,
                            n_threads_batch=a.threads, vocab_only=True, verbose=False)
    encoded = encode_prompts(probe, questions, a.prompt)
    del probe
    rows = lambda n: [encoded[i % len(encoded)] for i in range(n)]
    longest = max(len(p) for p in encoded)
    per_row = longest + a.new_tokens

    llm = llama_cpp.Llama(model_path=a.model, n_threads=a.threads, n_threads_batch=a.threads,
                          n_ctx=per_row, n_batch=max(512, longest), logits_all=False,
                          flash_attn=a.flash_attn, verbose=False)
    n_vocab = llm.n_vocab()
    single_dec = Decoder(llm.ctx, n_vocab, max(longest, 1))

    # The batched context: the same parameters, room for every row, one sequence id per row.
    params = type(llm.context_params).from_buffer_copy(llm.context_params)
    batch_prompt_tokens = sum(len(p) for p in rows(a.batch))
    params.n_seq_max = a.batch
    # llama.cpp pads a context to 256 cells and then splits it evenly between the sequences;
    # a multiple of both gives every row the padded room with nothing rounded away.
    params.n_ctx = a.batch * (-(-per_row // 256) * 256)
    params.n_batch = max(batch_prompt_tokens, a.batch)
    bctx = llama_cpp.llama_init_from_model(llm.model, params)
    if not bctx:
        sys.exit(f"llama_cpp_generate.py: llama.cpp could not create a context for {a.batch} sequences "
                 f"of {per_row} tokens; lower --batch or --new-tokens")
    if llama_cpp.llama_n_ctx_seq(bctx) < per_row:
        sys.exit(f"llama_cpp_generate.py: llama.cpp gave each of the {a.batch} sequences "
                 f"{llama_cpp.llama_n_ctx_seq(bctx)} KV cells, fewer than the {per_row} needed")
    batch_dec = Decoder(bctx, n_vocab, params.n_batch)

    desc = ctypes.create_string_buffer(128)
    llama_cpp.llama_model_desc(llm.model, desc, len(desc))
    common = {"engine": "llama.cpp", "threads": a.threads, "repeats": a.repeats,
              "new_tokens_per_row": a.new_tokens, "prompt_format": a.prompt,
              "prompts_fingerprint": fingerprint(encoded), "weights": desc.value.decode(),
              "llama_cpp_python": llama_cpp.__version__, "flash_attn": a.flash_attn,
              "kv_cache": "f16"}

    def emit(mode, nrows, prompt_tokens, tokens, seconds):
        print(json.dumps(dict(common, mode=mode, rows=nrows, prompt_tokens=prompt_tokens, tokens=tokens,
                              seconds=round(seconds, 4), tokens_per_sec=round(tokens / seconds, 1)),
                         sort_keys=True), flush=True)

    def expect(out, nrows):
        if len(out) != nrows or any(len(r) != a.new_tokens for r in out):
            raise RuntimeError(f"made {[len(r) for r in out]} tokens per row, not {a.new_tokens} each")

    # Untimed: graph allocation and first-touch page faults belong to no measurement.
    single_dec.run(rows(1), 2)
    batch_dec.run(rows(a.batch), 2)

    singles = rows(a.single)
    prefill = decode = float("inf")
    for _ in range(a.repeats):
        p = d = 0.0
        for row in singles:
            out, tp, td = single_dec.run([row], a.new_tokens)
            expect(out, 1)
            p, d = p + tp, d + td
        prefill, decode = min(prefill, p), min(decode, d)
    single_prompt_tokens = sum(len(r) for r in singles)
    emit("single_prompt", a.single, single_prompt_tokens, single_prompt_tokens, prefill)
    emit("single_decode", a.single, single_prompt_tokens, a.single * (a.new_tokens - 1), decode)

    best, made = float("inf"), 0
    for _ in range(a.repeats):
        out, tp, td = batch_dec.run(rows(a.batch), a.new_tokens)
        expect(out, a.batch)
        best, made = min(best, tp + td), sum(len(r) for r in out)
    emit("batched", a.batch, batch_prompt_tokens, made, best)

    single_dec.close()
    batch_dec.close()
    llama_cpp.llama_free(bctx)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
