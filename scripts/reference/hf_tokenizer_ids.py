#!/usr/bin/env python3
"""Token ids from an exported tokenizer.json, read by Hugging Face `tokenizers` (the library
behind transformers' fast tokenizers), for comparing with the engine's BPETokenizer. Run with
the Python of .venv-ref (scripts/setup-reference.sh).

  hf_tokenizer_ids.py < request.json > reply.json

request: {"tokenizer": PATH/tokenizer.json, "texts": [str, ...], "decode": [[id, ...], ...]}
reply:   {"vocab_size": N (added tokens included),
          "ids": [[...]]          special-token text matched as special tokens (the default),
          "ids_plain": [[...]]    special-token text encoded as ordinary text,
          "decoded": [str, ...]}  each "decode" list decoded with skip_special_tokens=True
"""
import json
import sys

from tokenizers import Tokenizer


def main():
    req = json.load(sys.stdin)
    tok = Tokenizer.from_file(req["tokenizer"])
    ids, plain = [], []
    for text in req["texts"]:
        tok.encode_special_tokens = False
        ids.append(tok.encode(text, add_special_tokens=True).ids)
        tok.encode_special_tokens = True
        plain.append(tok.encode(text, add_special_tokens=True).ids)
    json.dump({
        "vocab_size": tok.get_vocab_size(with_added_tokens=True),
        "ids": ids,
        "ids_plain": plain,
        "decoded": [tok.decode(d, skip_special_tokens=True) for d in req.get("decode", [])],
    }, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
