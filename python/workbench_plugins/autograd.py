"""Pooling and contrastive plugins as torch.autograd.Functions, so a CARFT term (or any plugin's
loss) can be added to a PyTorch loss. Tensors of any float dtype and device: they are moved to the
CPU as float32 for the plugin, and results come back in the input's dtype and device.
Needs torch (imported on first use of this module)."""
from typing import Optional, Sequence

import numpy as np
import torch

from .instances import Contrastive, Pooling


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).contiguous().numpy()


class _PoolingFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, plugin: Pooling, tokens, values, mask):
        ctx.plugin = plugin
        ctx.save_for_backward(tokens, values if values is not None else torch.empty(0), mask)
        ctx.has_values = values is not None
        out = plugin.forward(_np(tokens), None if values is None else _np(values), _np(mask))
        return torch.from_numpy(out).to(tokens.device, tokens.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        tokens, values, mask = ctx.saved_tensors
        values = values if ctx.has_values else None
        need_values = ctx.has_values and ctx.needs_input_grad[2]
        gt, gv = ctx.plugin.backward(_np(tokens), None if values is None else _np(values), _np(mask), _np(grad_out),
                                     need_values=need_values)
        gt = torch.from_numpy(gt).to(tokens.device, tokens.dtype)
        gv = None if gv is None else torch.from_numpy(gv).to(values.device, values.dtype)
        return None, gt, gv, None


def pool(plugin: Pooling, token_embeddings: torch.Tensor, mask: torch.Tensor,
         values: Optional[torch.Tensor] = None) -> torch.Tensor:
    """[batch, T, dim] token embeddings (and [batch, T] values, for poolings that read them) to
    [batch, dim], differentiable in both."""
    return _PoolingFunction.apply(plugin, token_embeddings, values, mask)


class _ContrastiveFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, plugin: Contrastive, rewards, valid, *views):
        ctx.plugin = plugin
        ctx.save_for_backward(rewards, valid, *views)
        loss = plugin.forward([_np(v) for v in views], _np(rewards), _np(valid))
        return torch.tensor(loss, dtype=views[0].dtype, device=views[0].device)

    @staticmethod
    def backward(ctx, grad_loss):
        rewards, valid, *views = ctx.saved_tensors
        need = list(ctx.needs_input_grad[3:])
        grads = ctx.plugin.backward([_np(v) for v in views], _np(rewards), _np(valid),
                                    grad_loss=float(grad_loss), need=need)
        out = [None if g is None else torch.from_numpy(g).to(v.device, v.dtype) for g, v in zip(grads, views)]
        return (None, None, None, *out)


def contrastive_loss(plugin: Contrastive, views: Sequence[torch.Tensor], rewards: torch.Tensor,
                     valid: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The plugin's scalar loss of its pooled views (each [batch, dim]), differentiable in every view.
    rewards: [batch], reward >= 1 marks a correct rollout; valid: [batch] 1 = a real row."""
    if valid is None:
        valid = torch.ones(len(rewards), dtype=torch.uint8)
    return _ContrastiveFunction.apply(plugin, rewards, valid, *views)
