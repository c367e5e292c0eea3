#!/usr/bin/env python3
"""An independent numpy forward of a Hugging Face LlamaForCausalLM folder (config.json +
model.safetensors), for checking what the engine exports. Run with the Python of .venv-ref
(scripts/setup-reference.sh); it needs numpy only, not torch or safetensors.

  hf_llama_reference.py < request.json > reply.json

request: {"model_dir": DIR, "prompts": [[id, ...], ...], "new_tokens": N,
          "stop": ID or null, "logits_dir": DIR or null}
reply:   {"tokens": [[id, ...], ...]}   greedy continuations (stop token included, if drawn)
         and, with logits_dir, DIR/<i>.f32: prompt i's logits after its last prompt token
         (the distribution of the first new token), little-endian float32.

Written from transformers' modeling_llama.py (LlamaForCausalLM) and the safetensors format, not
from the Swift code. Every shape comes from config.json: head_dim, num_key_value_heads,
tie_word_embeddings (lm_head.weight present only when false), rope_parameters / rope_theta.
The tensor names must be exactly the ones LlamaForCausalLM declares, with the shapes it
declares: transformers would silently initialise a missing tensor at random and drop an
unexpected one, so either is an error here. Keys transformers would treat differently from
the plain Llama implemented here (another activation, biases, scaled RoPE) are errors too.

q and k are rotated the Hugging Face way (rotate_half: element i pairs with i + head_dim/2);
llama_reference.py, which reads GGUF, rotates interleaved pairs instead. Float32 throughout, as
transformers runs a float32 model: RMSNorm, the rotary frequencies, softmax.
"""
import json
import os
import sys

# One BLAS thread: the products here are small, and on a busy machine OpenBLAS's spinning
# threads made decoding many times slower.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np

from greedy_driver import serve


def fail(message):
    print(f"hf_llama_reference.py: {message}", file=sys.stderr)
    sys.exit(2)


DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": None}


def read_safetensors(path):
    """{name: float32 array}: an 8-byte little-endian header length, a JSON header, the data."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = memoryview(raw)[8 + n:]
    out = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype, shape = info["dtype"], info["shape"]
        if dtype not in DTYPES:
            fail(f"{path}: tensor {name} has dtype {dtype}; only F32, F16 and BF16 are read")
        if dtype == "BF16":
            halves = np.frombuffer(data[start:end], dtype="<u2").astype(np.uint32) << 16
            a = halves.view(np.float32)
        else:
            a = np.frombuffer(data[start:end], dtype=DTYPES[dtype]).astype(np.float32)
        if a.size != int(np.prod(shape, dtype=np.int64)):
            fail(f"{path}: tensor {name} holds {a.size} values for shape {shape}")
        out[name] = a.reshape(shape)
    return out


class HFLlama:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as f:
            c = json.load(f)
        if c.get("model_type") != "llama" or "LlamaForCausalLM" not in (c.get("architectures") or []):
            fail(f"{folder}/config.json is not a LlamaForCausalLM config (model_type {c.get('model_type')!r}, architectures {c.get('architectures')!r})")
        # LlamaConfig's defaults where a key is absent, as transformers applies them.
        if c.get("hidden_act", "silu") != "silu":
            fail(f"hidden_act {c['hidden_act']!r}: only silu is implemented")
        if c.get("attention_bias", False) or c.get("mlp_bias", False):
            fail("attention_bias / mlp_bias: biases are not implemented")
        rope = c.get("rope_parameters") or c.get("rope_scaling") or {}
        rope_type = rope.get("rope_type", rope.get("type", "default"))
        if rope_type != "default":
            fail(f"rope_type {rope_type!r}: only default rotary embeddings are implemented")
        self.theta = float(rope.get("rope_theta", c.get("rope_theta", 10000.0)))
        self.dim = c["hidden_size"]
        self.n_layer = c["num_hidden_layers"]
        self.n_head = c["num_attention_heads"]
        self.n_kv = c.get("num_key_value_heads") or self.n_head
        self.hd = c.get("head_dim") or self.dim // self.n_head
        self.ffn = c["intermediate_size"]
        self.vocab = c["vocab_size"]
        self.eps = np.float32(c.get("rms_norm_eps", 1e-6))
        tied = c.get("tie_word_embeddings", False)

        self.w = read_safetensors(os.path.join(folder, "model.safetensors"))
        want = {"model.embed_tokens.weight": [self.vocab, self.dim], "model.norm.weight": [self.dim]}
        for l in range(self.n_layer):
            p = f"model.layers.{l}."
            want.update({
                p + "input_layernorm.weight": [self.dim],
                p + "self_attn.q_proj.weight": [self.n_head * self.hd, self.dim],
                p + "self_attn.k_proj.weight": [self.n_kv * self.hd, self.dim],
                p + "self_attn.v_proj.weight": [self.n_kv * self.hd, self.dim],
                p + "self_attn.o_proj.weight": [self.dim, self.n_head * self.hd],
                p + "post_attention_layernorm.weight": [self.dim],
                p + "mlp.gate_proj.weight": [self.ffn, self.dim],
                p + "mlp.up_proj.weight": [self.ffn, self.dim],
                p + "mlp.down_proj.weight": [self.dim, self.ffn],
            })
        if not tied:
            want["lm_head.weight"] = [self.vocab, self.dim]
        missing = sorted(set(want) - set(self.w))
        extra = sorted(set(self.w) - set(want))
        if missing or extra:
            fail(f"tensors differ from LlamaForCausalLM's (tie_word_embeddings={tied}): missing {missing[:5]}, unexpected {extra[:5]}")
        for name, shape in want.items():
            if list(self.w[name].shape) != shape:
                fail(f"tensor {name} has shape {list(self.w[name].shape)}, LlamaForCausalLM expects {shape}")
        self.lm_head = self.w["model.embed_tokens.weight"] if tied else self.w["lm_head.weight"]
        # LlamaRotaryEmbedding (default type): inv_freq = 1 / theta^(2i / head_dim) in float32.
        self.inv_freq = (1.0 / (np.float32(self.theta) ** (np.arange(0, self.hd, 2, dtype=np.int64).astype(np.float32) / np.float32(self.hd)))).astype(np.float32)

    def rmsnorm(self, x, g):
        # LlamaRMSNorm: x * rsqrt(mean(x^2) + eps), then the weight.
        var = np.mean(x * x, axis=-1, keepdims=True)
        return g * (x / np.sqrt(var + self.eps))

    def rope(self, x, positions):
        # x: [T, heads, hd]. cos/sin of cat(freqs, freqs); rotate_half(x) = cat(-x2, x1).
        freqs = np.outer(positions.astype(np.float32), self.inv_freq).astype(np.float32)
        emb = np.concatenate([freqs, freqs], axis=-1)
        cos, sin = np.cos(emb)[:, None, :], np.sin(emb)[:, None, :]
        half = self.hd // 2
        rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
        return x * cos + rotated * sin

    def step(self, ids, cache):
        """Appends ids to the cache; the logits after the last of them."""
        start = cache["len"]
        T = len(ids)
        pos = np.arange(start, start + T)
        x = self.w["model.embed_tokens.weight"][ids]
        group = self.n_head // self.n_kv
        scale = np.float32(self.hd ** -0.5)
        for l in range(self.n_layer):
            p = f"model.layers.{l}."
            h = self.rmsnorm(x, self.w[p + "input_layernorm.weight"])
            q = (h @ self.w[p + "self_attn.q_proj.weight"].T).reshape(T, self.n_head, self.hd)
            k = (h @ self.w[p + "self_attn.k_proj.weight"].T).reshape(T, self.n_kv, self.hd)
            v = (h @ self.w[p + "self_attn.v_proj.weight"].T).reshape(T, self.n_kv, self.hd)
            q, k = self.rope(q, pos), self.rope(k, pos)
            K = np.concatenate([cache["k"][l], k]) if start else k
            V = np.concatenate([cache["v"][l], v]) if start else v
            cache["k"][l], cache["v"][l] = K, V
            mask = np.arange(start + T)[None, :] > pos[:, None]
            att = np.empty((T, self.n_head, self.hd), dtype=np.float32)
            for hh in range(self.n_head):
                kv = hh // group  # repeat_kv: query head hh reads key/value head hh // group
                s = (q[:, hh, :] @ K[:, kv, :].T) * scale
                s = np.where(mask, -np.inf, s)
                s = np.exp(s - s.max(axis=-1, keepdims=True))
                s /= s.sum(axis=-1, keepdims=True)
                att[:, hh, :] = s @ V[:, kv, :]
            x = x + att.reshape(T, self.n_head * self.hd) @ self.w[p + "self_attn.o_proj.weight"].T
            h = self.rmsnorm(x, self.w[p + "post_attention_layernorm.weight"])
            g = h @ self.w[p + "mlp.gate_proj.weight"].T
            u = h @ self.w[p + "mlp.up_proj.weight"].T
            x = x + ((g / (1 + np.exp(-g))) * u) @ self.w[p + "mlp.down_proj.weight"].T
        cache["len"] = start + T
        return self.lm_head @ self.rmsnorm(x[-1], self.w["model.norm.weight"])


def main():
    req = json.load(sys.stdin)
    serve(HFLlama(req["model_dir"]), req)


if __name__ == "__main__":
    main()
