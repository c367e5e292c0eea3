#!/usr/bin/env python3
"""PyTorch peer of `workbench bench train-step`: times full AdamW training steps
of the same Llama-family decoder, fp32, CPU eager (no torch.compile).

Prints one JSON line on stdout, same shape as the Swift command:
  {"engine": "pytorch", "tokens_per_sec": ..., "step_ms": ..., "loss_first": ...,
   "loss_last": ..., "torch": "<version>", "attention": "...", ...}

Model: embedding [V, D]; L x (RMSNorm -> GQA attention with HF rotate_half RoPE
(theta 10000) -> residual -> RMSNorm -> SwiGLU MLP -> residual); final RMSNorm;
LM head tied to the embedding. Loss: mean cross-entropy over all B*T next-token
targets. One step = zero_grad + forward + backward + AdamW.step.

loss_first is the loss of the very first step (warm-up included, i.e. at
initialisation, ~ln V); loss_last is the loss of the last timed step. Both
engines train on the same fixed random batch every step, so the loss falls.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    # Hugging Face LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * gain.
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(seq, head_dim, theta=10000.0):
    # HF convention: frequencies for the first half, repeated for the second half.
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    t = torch.arange(seq, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq)             # [T, hd/2]
    emb = torch.cat((freqs, freqs), dim=-1)      # [T, hd]
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, cos, sin):
    # x: [B, heads, T, hd]; cos/sin: [T, hd]
    return x * cos + rotate_half(x) * sin


def repeat_kv(x, n_rep):
    # HF repeat_kv: KV head j serves query heads j*n_rep .. j*n_rep + n_rep - 1.
    if n_rep == 1:
        return x
    b, k, t, hd = x.shape
    return x[:, :, None, :, :].expand(b, k, n_rep, t, hd).reshape(b, k * n_rep, t, hd)


class Attention(nn.Module):
    def __init__(self, dim, heads, kv_heads, attn_impl):
        super().__init__()
        self.heads, self.kv_heads = heads, kv_heads
        self.head_dim = dim // heads
        self.attn_impl = attn_impl
        self.q_proj = nn.Linear(dim, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, dim, bias=False)

    def forward(self, x, cos, sin, causal_mask):
        b, t, _ = x.shape
        hd = self.head_dim
        q = self.q_proj(x).view(b, t, self.heads, hd).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, hd).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        n_rep = self.heads // self.kv_heads
        k = repeat_kv(k, n_rep)
        v = repeat_kv(v, n_rep)
        if self.attn_impl == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            scores = scores.masked_fill(causal_mask, float("-inf"))
            y = torch.softmax(scores, dim=-1) @ v
        y = y.transpose(1, 2).reshape(b, t, self.heads * hd)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, dim, ffn):
        super().__init__()
        self.gate_proj = nn.Linear(dim, ffn, bias=False)
        self.up_proj = nn.Linear(dim, ffn, bias=False)
        self.down_proj = nn.Linear(ffn, dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, dim, heads, kv_heads, ffn, attn_impl):
        super().__init__()
        self.input_layernorm = RMSNorm(dim)
        self.self_attn = Attention(dim, heads, kv_heads, attn_impl)
        self.post_attention_layernorm = RMSNorm(dim)
        self.mlp = MLP(dim, ffn)

    def forward(self, x, cos, sin, causal_mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, causal_mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed_tokens = nn.Embedding(a.vocab, a.dim)
        self.layers = nn.ModuleList(
            Block(a.dim, a.heads, a.kv_heads, a.ffn, a.attention) for _ in range(a.layers))
        self.norm = RMSNorm(a.dim)
        cos, sin = rope_tables(a.seq, a.dim // a.heads)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        mask = torch.ones(a.seq, a.seq, dtype=torch.bool).triu(1)  # True = masked (future)
        self.register_buffer("causal_mask", mask, persistent=False)
        # Llama-style init: N(0, 0.02) for embedding and projections, gains at 1.
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def forward(self, tokens):
        t = tokens.shape[1]
        cos, sin, mask = self.cos[:t], self.sin[:t], self.causal_mask[:t, :t]
        h = self.embed_tokens(tokens)
        for layer in self.layers:
            h = layer(h, cos, sin, mask)
        h = self.norm(h)
        return F.linear(h, self.embed_tokens.weight)  # tied output head


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--heads", type=int, required=True)
    p.add_argument("--kv-heads", type=int, required=True)
    p.add_argument("--ffn", type=int, required=True)
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--seq", type=int, required=True)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--attention", choices=("sdpa", "math"), default="sdpa",
                   help="sdpa: F.scaled_dot_product_attention(is_causal=True) (default); "
                        "math: explicit matmul + masked softmax")
    a = p.parse_args(argv)
    for name in ("layers", "dim", "heads", "kv_heads", "ffn", "vocab", "batch", "seq", "steps", "threads"):
        if getattr(a, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if a.warmup < 0:
        p.error("--warmup must be >= 0")
    if a.dim % a.heads:
        p.error("--dim must be a multiple of --heads")
    if a.heads % a.kv_heads:
        p.error("--heads must be a multiple of --kv-heads")
    if (a.dim // a.heads) % 2:
        p.error("head size (dim/heads) must be even for rotary embedding")
    return a


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    model = Decoder(a)
    model.train()
    gen = torch.Generator().manual_seed(a.seed)
    data = torch.randint(0, a.vocab, (a.batch, a.seq + 1), generator=gen)
    inputs, targets = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.0)  # foreach/fused left at their defaults

    def step():
        opt.zero_grad()
        logits = model(inputs)
        loss = F.cross_entropy(logits.view(-1, a.vocab), targets.view(-1))
        loss.backward()
        opt.step()
        return loss.item()

    loss_first = None
    for _ in range(a.warmup):
        loss = step()
        if loss_first is None:
            loss_first = loss

    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
        if loss_first is None:
            loss_first = loss
    elapsed = time.perf_counter() - t0
    loss_last = loss

    # Which AdamW path actually ran: with foreach=None, torch picks foreach only for
    # devices it has foreach kernels for; report what it picked on this CPU.
    foreach = opt.param_groups[0].get("foreach")
    fused = opt.param_groups[0].get("fused")
    if fused:
        adam_impl = "fused"
    elif foreach is None:
        try:  # private helper; its signature has changed across releases
            from torch.optim.optimizer import _default_to_fused_or_foreach
            _, fe = _default_to_fused_or_foreach(list(model.parameters()), False, False)
            adam_impl = "foreach" if fe else "for-loop"
        except Exception:
            adam_impl = "unknown"
    else:
        adam_impl = "foreach" if foreach else "for-loop"

    n_params = sum(p.numel() for p in model.parameters())
    out = {
        "engine": "pytorch",
        "tokens_per_sec": round(a.batch * a.seq * a.steps / elapsed, 1),
        "step_ms": round(elapsed / a.steps * 1000.0, 2),
        "loss_first": round(loss_first, 6),
        "loss_last": round(loss_last, 6),
        "torch": torch.__version__,
        "attention": ("sdpa(is_causal=True)" if a.attention == "sdpa" else "matmul+softmax"),
        "adamw": f"default ({adam_impl})",
        "threads": torch.get_num_threads(),
        "params": n_params,
        "steps": a.steps,
        "warmup": a.warmup,
    }
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
