#!/usr/bin/env python3
# (Not called tokenize.py: a file of that name beside gguf_quants.py shadows the standard library module numpy imports.)
"""Reference ids for the Swift BPETokenizer, from an implementation that shares no code with it.

Reads the tokenizer metadata of a GGUF file with `gguf.GGUFReader`, builds a Hugging Face
`tokenizers.Tokenizer` from the same vocabulary and merges (BPE model, the pre-tokenizer named
by `tokenizer.ggml.pre`, ByteLevel decoder, CONTROL/USER_DEFINED tokens as special added tokens),
and encodes the texts given on stdin as a JSON list of strings.

Prints one JSON object: the metadata the Swift tokenizer is built from (tokens, merges,
token_types, bos/eos/unk/pad ids, pre) and "cases": [{"text", "ids", "ids_special"}], where
"ids" treats special-token text as plain text and "ids_special" matches it as special tokens.

Usage: python scripts/reference/bpe_reference.py MODEL.gguf < texts.json
Needs numpy, gguf and tokenizers (scripts/setup-reference.sh creates .venv-ref with them).
"""
import json
import sys

import gguf
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

# GGUF token types (llama.cpp's llama_token_type).
CONTROL, USER_DEFINED = 3, 4


def fail(message):
    print(f"bpe_reference.py: {message}", file=sys.stderr)
    sys.exit(2)


def field(reader, key, default=None):
    f = reader.fields.get(key)
    return default if f is None else f.contents()


# The Hugging Face pre-tokenizers behind llama.cpp's `tokenizer.ggml.pre` names. SmolLM's
# tokenizer.json isolates every digit before the GPT-2 split; llama.cpp mirrors this with a
# leading "\p{N}" regex for the "smollm" type.
def pre_tokenizer(name):
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if name == "gpt-2":
        return byte_level
    if name == "smollm":
        return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
    fail(f"no reference pre-tokenizer for tokenizer.ggml.pre '{name}'; supported: gpt-2, smollm")


def main():
    if len(sys.argv) != 2:
        fail("usage: bpe_reference.py MODEL.gguf < texts.json")
    reader = gguf.GGUFReader(sys.argv[1])
    model = field(reader, "tokenizer.ggml.model")
    if model != "gpt2":
        fail(f"tokenizer.ggml.model is '{model}', only byte-level BPE ('gpt2') is supported")
    pre = field(reader, "tokenizer.ggml.pre", "gpt-2")
    tokens = field(reader, "tokenizer.ggml.tokens")
    merges = field(reader, "tokenizer.ggml.merges")
    types = [int(t) for t in field(reader, "tokenizer.ggml.token_type", [])]

    def special_id(key):
        v = field(reader, key)
        return None if v is None else int(v)

    vocab = {t: i for i, t in enumerate(tokens)}
    bpe = models.BPE(vocab=vocab, merges=[tuple(m.split(" ")) for m in merges])
    tok = Tokenizer(bpe)
    tok.pre_tokenizer = pre_tokenizer(pre)
    tok.decoder = decoders.ByteLevel()
    specials = [tokens[i] for i, t in enumerate(types) if t in (CONTROL, USER_DEFINED)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])

    texts = json.load(sys.stdin)
    cases = []
    for text in texts:
        tok.encode_special_tokens = True
        plain = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        special = tok.encode(text, add_special_tokens=False).ids
        cases.append({"text": text, "ids": plain, "ids_special": special})

    json.dump({
        "model": model,
        "pre": pre,
        "tokens": tokens,
        "merges": merges,
        "token_types": types,
        "bos": special_id("tokenizer.ggml.bos_token_id"),
        "eos": special_id("tokenizer.ggml.eos_token_id"),
        "unk": special_id("tokenizer.ggml.unknown_token_id"),
        "pad": special_id("tokenizer.ggml.padding_token_id"),
        "cases": cases,
    }, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
