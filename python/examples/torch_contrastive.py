"""A CARFT-style contrastive term from workbench plugins inside a plain PyTorch training loop.

A small encoder reads token sequences (a "rollout" and its "annotated CoT"); the built-in
softmax-values pooling (libworkbench_builtins.so) pools each into one embedding from the token
states and a value head, and a contrastive plugin (the built-in positive InfoNCE by default, or
any other: --library/--id) pulls each correct rollout's embedding toward its own annotated CoT.
Its loss is added to an ordinary loss with a coefficient, as CARFT adds it to PPO's.

    swift build -c release            # makes .build/release/libworkbench_builtins.so
    pip install ./python torch
    python python/examples/torch_contrastive.py [--steps 60] [--library .build/release/libnegsignal.so --id org.example.contrastive.negsignal]

Prints both losses as they train: the contrastive term falls within a few steps (to where the
default positive-clamp of 0.9 stops it) while the language-model loss keeps falling.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch  # noqa: E402

import workbench_plugins as wp  # noqa: E402
from workbench_plugins.autograd import contrastive_loss, pool  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILTINS = os.path.join(ROOT, ".build/release/libworkbench_builtins.so")


class Encoder(torch.nn.Module):
    def __init__(self, vocab=64, dim=32):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, dim)
        self.rnn = torch.nn.GRU(dim, dim, batch_first=True)
        self.value = torch.nn.Linear(dim, 1)
        self.lm = torch.nn.Linear(dim, vocab)

    def forward(self, ids):
        states, _ = self.rnn(self.embed(ids))
        return states, self.value(states).squeeze(-1), self.lm(states)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", default=BUILTINS)
    ap.add_argument("--id", default="org.workbench.contrastive.infonce-positive")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--coef", type=float, default=0.5)
    args = ap.parse_args()
    torch.manual_seed(0)

    pooling = wp.Pooling(BUILTINS, "org.workbench.pooling.softmax-values")
    loss_plugin = wp.Contrastive(args.library, args.id, detach_denominator=False)
    print(f"pooling: {pooling!r}\ncontrastive: {loss_plugin!r} (views: {', '.join(loss_plugin.view_sources)})")

    model = Encoder()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    batch, length = 8, 12
    annotated = torch.randint(0, 64, (batch, length))
    # Rollouts: the annotated CoT with a third of its tokens resampled; rows 0-4 "correct".
    rollout = torch.where(torch.rand(batch, length) < 0.33, torch.randint(0, 64, (batch, length)), annotated)
    rewards = torch.tensor([1, 1, 1, 1, 1, 0.1, 0, 0.1])
    cot = torch.ones(batch, length, dtype=torch.uint8)
    cot[:, :3] = 0  # the first tokens are the "prompt"; the CoT views skip them
    # select gives each view's tokens exactly as `workbench rl` would ask the plugin.
    masks = loss_plugin.select(rollout.numpy(), torch.ones(batch, length).numpy(), cot.numpy(),
                               annotated.numpy(), torch.ones(batch, length).numpy(), cot.numpy())
    sources = loss_plugin.view_sources

    for step in range(args.steps + 1):
        views = []
        for source, mask in zip(sources, masks):
            ids = rollout if source == "rollout" else annotated
            states, values, _ = model(ids)
            views.append(pool(pooling, states, torch.from_numpy(mask), values))
        _, _, logits = model(rollout)
        lm_loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 64), rollout[:, 1:].reshape(-1))
        c_loss = contrastive_loss(loss_plugin, views, rewards)
        loss = lm_loss + args.coef * c_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            a, r = views[sources.index("annotated")], views[sources.index("rollout")]
            cos = torch.nn.functional.cosine_similarity(a, r)[rewards >= 1].mean()
            print(f"step {step:3d}: lm loss {lm_loss.item():.3f}, contrastive loss {c_loss.item():.4f}, "
                  f"cos(rollout, annotated) of correct rows {cos.item():.3f}")


if __name__ == "__main__":
    main()
