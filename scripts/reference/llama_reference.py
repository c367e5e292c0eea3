#!/usr/bin/env python3
"""An independent Llama forward pass in plain numpy, for checking the engine's GGUF import and
generation token for token. Run with the Python of .venv-ref (scripts/setup-reference.sh).

  llama_reference.py < request.json > reply.json

request: {"model": GGUF_PATH, "prompts": [[id, ...], ...], "new_tokens": N,
          "stop": ID or null, "logits_dir": DIR or null}
reply:   {"tokens": [[id, ...], ...]}   greedy continuations (stop token included, if drawn)
         and, with logits_dir, DIR/<i>.f32: prompt i's logits after its last prompt token
         (the distribution of the first new token), little-endian float32.

Written from the GGUF file and llama.cpp's conventions, not from the Swift code: weights come
from gguf.GGUFReader and gguf.quants.dequantize and stay in GGUF's layout. llama.cpp's
converter reorders each head's q and k rows so that rotary pairs are adjacent (2i, 2i+1), and
llama.cpp rotates such interleaved pairs; this script does the same, so it shares no q/k
reordering with the engine (which undoes the permutation and rotates halves).
Float32 throughout, a KV cache per prompt, one token at a time after the prompt.
"""
import json
import os
import sys

# One BLAS thread: the products here are small, and on a busy machine OpenBLAS's spinning
# threads made decoding 20x slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np

from greedy_driver import serve
from gguf import GGUFReader
import gguf.quants as quants


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


class Llama:
    def __init__(self, path):
        r = GGUFReader(path)
        arch = field(r, "general.architecture")
        if arch != "llama":
            raise SystemExit(f"{path}: architecture {arch!r}, not llama")
        self.n_layer = int(field(r, "llama.block_count"))
        self.dim = int(field(r, "llama.embedding_length"))
        self.n_head = int(field(r, "llama.attention.head_count"))
        self.n_kv = int(field(r, "llama.attention.head_count_kv", self.n_head))
        self.eps = float(field(r, "llama.attention.layer_norm_rms_epsilon"))
        self.theta = float(field(r, "llama.rope.freq_base", 10000.0))
        self.hd = self.dim // self.n_head
        self.w = {}
        for t in r.tensors:
            a = quants.dequantize(t.data, t.tensor_type).astype(np.float32)
            # numpy shape is the reverse of ggml's ne: [out, in] for a matrix.
            self.w[t.name] = a.reshape([int(n) for n in reversed(t.shape)]) if a.ndim != len(t.shape) else a
        self.out = self.w.get("output.weight", self.w["token_embd.weight"])
        # Interleaved rotary: pair (2i, 2i+1) turns by pos * theta^(-2i/hd).
        self.inv_freq = self.theta ** (-np.arange(0, self.hd, 2, dtype=np.float64) / self.hd)

    def rmsnorm(self, x, g):
        return (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps)) * g

    def rope(self, x, positions):
        # x: [T, heads, hd]; pairs of adjacent elements are rotated.
        ang = np.outer(positions, self.inv_freq)  # [T, hd/2], float64 like llama.cpp's theta
        cos = np.cos(ang).astype(np.float32)[:, None, :]
        sin = np.sin(ang).astype(np.float32)[:, None, :]
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * cos - x1 * sin
        out[..., 1::2] = x0 * sin + x1 * cos
        return out

    def step(self, ids, cache):
        """Appends ids to the cache (a list per layer of [keys, values]); logits of the last."""
        start = cache["len"]
        T = len(ids)
        pos = np.arange(start, start + T)
        x = self.w["token_embd.weight"][ids]  # [T, dim]
        group = self.n_head // self.n_kv
        for l in range(self.n_layer):
            p = f"blk.{l}."
            h = self.rmsnorm(x, self.w[p + "attn_norm.weight"])
            q = (h @ self.w[p + "attn_q.weight"].T).reshape(T, self.n_head, self.hd)
            k = (h @ self.w[p + "attn_k.weight"].T).reshape(T, self.n_kv, self.hd)
            v = (h @ self.w[p + "attn_v.weight"].T).reshape(T, self.n_kv, self.hd)
            q, k = self.rope(q, pos), self.rope(k, pos)
            K = np.concatenate([cache["k"][l], k]) if start else k
            V = np.concatenate([cache["v"][l], v]) if start else v
            cache["k"][l], cache["v"][l] = K, V
            S = start + T
            # causal mask: query at position start+i sees keys 0..start+i
            mask = np.arange(S)[None, :] > pos[:, None]
            att = np.empty((T, self.n_head, self.hd), dtype=np.float32)
            for hh in range(self.n_head):
                kv = hh // group
                s = (q[:, hh, :] @ K[:, kv, :].T) / np.float32(np.sqrt(self.hd))
                s = np.where(mask, -np.inf, s)
                s = np.exp(s - s.max(axis=-1, keepdims=True))
                s /= s.sum(axis=-1, keepdims=True)
                att[:, hh, :] = s @ V[:, kv, :]
            x = x + att.reshape(T, self.dim) @ self.w[p + "attn_output.weight"].T
            h = self.rmsnorm(x, self.w[p + "ffn_norm.weight"])
            g = h @ self.w[p + "ffn_gate.weight"].T
            u = h @ self.w[p + "ffn_up.weight"].T
            x = x + ((g / (1 + np.exp(-g))) * u) @ self.w[p + "ffn_down.weight"].T
        cache["len"] = start + T
        last = self.rmsnorm(x[-1], self.w["output_norm.weight"])
        return self.out @ last


def main():
    req = json.load(sys.stdin)
    serve(Llama(req["model"]), req)


if __name__ == "__main__":
    main()
