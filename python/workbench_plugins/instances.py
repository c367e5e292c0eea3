"""Plugin instances over numpy arrays: a reward, a pooling and a contrastive loss, each created from
a library path (or a loaded PluginLibrary), an optional plugin id and key=value config.

The rules are the header's, kept by the bridge as the workbench host keeps them: every buffer is
allocated here and owned here; an instance is used from one thread at a time (a lock makes that
so); every output is checked finite; a failed call raises PluginError with the plugin's own
messages. Host callbacks: error messages are collected per call, log lines go to Python's
logging, metrics are kept in `metrics` (name -> list of values) until `take_metrics()`.
"""
import ctypes
import logging
import math
import threading
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from . import _abi
from .library import Descriptor, PluginError, PluginLibrary

log = logging.getLogger("workbench_plugins")


def _f32(array, name: str, shape=None) -> np.ndarray:
    a = np.ascontiguousarray(array, dtype=np.float32)
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name} has shape {a.shape}, expected {tuple(shape)}")
    return a


def _u8(array, name: str, shape) -> np.ndarray:
    a = np.ascontiguousarray(array)
    if a.shape != tuple(shape):
        raise ValueError(f"{name} has shape {a.shape}, expected {tuple(shape)}")
    return np.ascontiguousarray(a != 0, dtype=np.uint8)


def _ptr(a: Optional[np.ndarray], ctype):
    return None if a is None else a.ctypes.data_as(ctypes.POINTER(ctype))


def _check_finite(a: np.ndarray, what: str):
    if not np.all(np.isfinite(a)):
        bad = int(np.argmax(~np.isfinite(a.reshape(-1))))
        raise PluginError(f"{what} wrote {a.reshape(-1)[bad]} at flat index {bad}; a plugin's outputs must be finite")


class Instance:
    """One plugin instance: created with its config on construction, destroyed by close() (or when
    garbage-collected)."""

    kind: str = ""

    def __init__(self, library: Union[str, PluginLibrary], id: Optional[str] = None, **config):
        lib = library if isinstance(library, PluginLibrary) else PluginLibrary(library)
        self.descriptor: Descriptor = lib.plugin(id, kind=self.kind)
        self.config = self.descriptor.config({k.replace("_", "-") if k.replace("_", "-") in
                                              {c.name for c in self.descriptor.config_keys} else k: v
                                              for k, v in config.items()})
        self.metrics: Dict[str, List[float]] = {}
        self._errors: List[str] = []
        self._lock = threading.Lock()
        self._handle = None
        # The wb_host lives (with its callbacks) until destroy returns: the plugin may keep the pointer.
        self._callbacks = (
            _abi.HostError(lambda host, msg: self._errors.append((msg or b"").decode("utf-8", "replace"))),
            _abi.HostLog(lambda host, level, msg: log.log(
                {0: logging.DEBUG, 1: logging.INFO, 2: logging.WARNING}.get(level, logging.ERROR),
                "%s: %s", self.descriptor.id, (msg or b"").decode("utf-8", "replace"))),
            _abi.HostMetric(self._on_metric),
            _abi.HostGetExtension(lambda host, ext: None),
        )
        self._host = _abi.wb_host(ctypes.sizeof(_abi.wb_host), 0, None, *self._callbacks)
        keys = (ctypes.c_char_p * max(1, len(self.config)))(*[k.encode() for k, _ in self.config])
        values = (ctypes.c_char_p * max(1, len(self.config)))(*[v.encode() for _, v in self.config])
        out = ctypes.c_void_p()
        self._call("create", self.descriptor.raw.create, self.descriptor.pointer, ctypes.byref(self._host),
                   len(self.config), keys, values, ctypes.byref(out))
        self._handle = out.value
        self._created = True

    def _on_metric(self, host, name, value):
        self.metrics.setdefault((name or b"").decode("utf-8", "replace"), []).append(value)

    def take_metrics(self) -> Dict[str, float]:
        """The mean of each metric reported since the last take, as `workbench rl` logs them."""
        out = {k: sum(v) / len(v) for k, v in self.metrics.items() if v}
        self.metrics = {}
        return out

    def _call(self, what: str, function, *args):
        if what != "create" and not getattr(self, "_created", False):
            raise PluginError(f"plugin {self.descriptor.id}: {what} after close(); create a new instance")
        self._errors = []
        status = function(*args)
        if status != _abi.OK:
            said = "; ".join(self._errors) or "it gave no message"
            raise PluginError(f"plugin {self.descriptor.id}: {what} failed with {_abi.STATUS_NAMES.get(status, status)}: {said}")

    def close(self):
        """Destroys the instance; no call may follow. The header has create and destroy on the
        main thread: call close() there (or use the instance as a context manager)."""
        with self._lock:
            self._destroy()

    def _destroy(self):
        if getattr(self, "_created", False):
            self._created = False
            self.descriptor.raw.destroy(self._handle)

    def __del__(self):
        # Garbage collection may run on any thread; off the main thread the instance is left
        # alive rather than destroyed against the header's rule.
        if getattr(self, "_created", False) and threading.current_thread() is threading.main_thread():
            try:
                self.close()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        config = ",".join(f"{k}={v}" for k, v in self.config)
        return f"<{type(self).__name__} {self.descriptor.id} {config}>"


def _gold_text(value: float) -> str:
    """The header's gold_answers form: an integer without ".0", otherwise the shortest text that
    reads back as the value (what the workbench host writes)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class Reward(Instance):
    """A reward plugin: `score(prompts, completions, golds)` returns one float per rollout."""

    kind = "reward"

    def score(self, prompts: Sequence[str], completions: Sequence[str], golds: Sequence[float],
              rollout_embeddings=None, annotated_embeddings=None) -> np.ndarray:
        n = len(completions)
        if not (len(prompts) == n == len(golds)):
            raise ValueError(f"score got {len(prompts)} prompts, {n} completions and {len(golds)} gold answers; give one of each per rollout")
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        gold_values = np.ascontiguousarray([float(g) for g in golds], dtype=np.float64)
        bad = [g for g in gold_values if not math.isfinite(g)]
        if bad:
            raise ValueError(f"gold answer {bad[0]} is not a finite number")
        texts = [(ctypes.c_char_p * n)(*[str(s).encode("utf-8") for s in seq])
                 for seq in (prompts, completions, [_gold_text(g) for g in gold_values])]
        dim, re, ae = 0, None, None
        if rollout_embeddings is not None or annotated_embeddings is not None:
            if rollout_embeddings is None or annotated_embeddings is None:
                raise ValueError("give both rollout_embeddings and annotated_embeddings, or neither")
            re = _f32(rollout_embeddings, "rollout_embeddings")
            dim = re.shape[-1] if re.ndim == 2 else 0
            if dim < 1:
                raise ValueError(f"rollout_embeddings must be [count, dim] with dim >= 1, got shape {re.shape}")
            re = _f32(re, "rollout_embeddings", (n, dim))
            ae = _f32(annotated_embeddings, "annotated_embeddings", (n, dim))
        batch = _abi.wb_reward_batch(ctypes.sizeof(_abi.wb_reward_batch), n, texts[0], texts[1], texts[2],
                                     _ptr(gold_values, ctypes.c_double), dim, 0,
                                     _ptr(re, ctypes.c_float), _ptr(ae, ctypes.c_float))
        out = np.zeros(n, dtype=np.float32)
        with self._lock:
            self._call("score", self.descriptor.functions.score, self._handle, ctypes.byref(batch), _ptr(out, ctypes.c_float))
        _check_finite(out, f"plugin {self.descriptor.id}'s score")
        return out


class Pooling(Instance):
    """A pooling plugin: token embeddings [batch, T, dim] (+ values [batch, T], mask [batch, T]) to
    one embedding per row, [batch, dim]; `backward` gives the gradients of both inputs."""

    kind = "pooling"

    @property
    def uses_values(self) -> bool:
        return bool(self.descriptor.functions.flags & _abi.POOLING_USES_VALUES)

    def _batch(self, tokens, values, mask):
        tokens = _f32(tokens, "token_embeddings")
        if tokens.ndim != 3 or 0 in tokens.shape:
            raise ValueError(f"token_embeddings must be [batch, T, dim] with no empty axis, got shape {tokens.shape}")
        b, t, d = tokens.shape
        if values is None and self.uses_values:
            raise ValueError(f"plugin {self.descriptor.id} reads the value-head outputs: pass values [batch, T]")
        values = None if values is None else _f32(values, "values", (b, t))
        mask = _u8(mask, "mask", (b, t))
        batch = _abi.wb_pooling_batch(ctypes.sizeof(_abi.wb_pooling_batch), b, t, d, _ptr(tokens, ctypes.c_float),
                                      _ptr(values, ctypes.c_float), _ptr(mask, ctypes.c_uint8))
        return batch, (tokens, values, mask)

    def forward(self, token_embeddings, values, mask) -> np.ndarray:
        batch, keep = self._batch(token_embeddings, values, mask)
        out = np.zeros((batch.batch, batch.dim), dtype=np.float32)
        with self._lock:
            self._call("forward", self.descriptor.functions.forward, self._handle, ctypes.byref(batch), _ptr(out, ctypes.c_float))
        _check_finite(out, f"plugin {self.descriptor.id}'s forward")
        return out

    def backward(self, token_embeddings, values, mask, grad_out, need_values: bool = True):
        """(grad_token_embeddings, grad_values or None)."""
        batch, keep = self._batch(token_embeddings, values, mask)
        g = _f32(grad_out, "grad_out", (batch.batch, batch.dim))
        gt = np.zeros((batch.batch, batch.tokens, batch.dim), dtype=np.float32)
        gv = np.zeros((batch.batch, batch.tokens), dtype=np.float32) if (values is not None and need_values) else None
        with self._lock:
            self._call("backward", self.descriptor.functions.backward, self._handle, ctypes.byref(batch),
                       _ptr(g, ctypes.c_float), _ptr(gt, ctypes.c_float), _ptr(gv, ctypes.c_float))
        _check_finite(gt, f"plugin {self.descriptor.id}'s backward (token gradients)")
        if gv is not None:
            _check_finite(gv, f"plugin {self.descriptor.id}'s backward (value gradients)")
        return gt, gv


class Contrastive(Instance):
    """A contrastive-loss plugin: `select` chooses each view's tokens, `forward` gives the loss of
    the pooled views, `backward` the gradient of every view."""

    kind = "contrastive"
    MAX_VIEWS = 64  # as the workbench host: more is a broken view_count

    def __init__(self, library, id=None, **config):
        super().__init__(library, id, **config)
        # Constant for the instance's life (the header), so read once, and checked as the host does.
        with self._lock:
            count = int(self.descriptor.functions.view_count(self._handle))
            if not 1 <= count <= self.MAX_VIEWS:
                self._destroy()
                raise PluginError(f"plugin {self.descriptor.id}: view_count returned {count}; a contrastive plugin has 1 to {self.MAX_VIEWS} views")
            names = {_abi.VIEW_ROLLOUT: "rollout", _abi.VIEW_ANNOTATED: "annotated"}
            sources = []
            for v in range(count):
                s = self.descriptor.functions.view_source(self._handle, v)
                if s not in names:
                    self._destroy()
                    raise PluginError(f"plugin {self.descriptor.id}: view {v}'s source is {s}, neither rollout (1) nor annotated (2)")
                sources.append(names[s])
        self.view_count = count
        self.view_sources = sources

    def select(self, rollout_ids, rollout_present, rollout_cot, annotated_ids, annotated_present, annotated_cot) -> List[np.ndarray]:
        """Each view's token mask, [batch, T_r] or [batch, T_a] by the view's source."""
        r_ids = np.ascontiguousarray(rollout_ids, dtype=np.int32)
        a_ids = np.ascontiguousarray(annotated_ids, dtype=np.int32)
        if r_ids.ndim != 2 or a_ids.ndim != 2 or r_ids.shape[0] != a_ids.shape[0] or 0 in r_ids.shape or 0 in a_ids.shape:
            raise ValueError(f"rollout_ids {r_ids.shape} and annotated_ids {a_ids.shape} must be [batch, T] with one batch size")
        b, tr = r_ids.shape
        ta = a_ids.shape[1]
        rp, rc = _u8(rollout_present, "rollout_present", (b, tr)), _u8(rollout_cot, "rollout_cot", (b, tr))
        ap, ac = _u8(annotated_present, "annotated_present", (b, ta)), _u8(annotated_cot, "annotated_cot", (b, ta))
        batch = _abi.wb_token_views_batch(ctypes.sizeof(_abi.wb_token_views_batch), b, tr, ta,
                                          _ptr(r_ids, ctypes.c_int32), _ptr(rp, ctypes.c_uint8), _ptr(rc, ctypes.c_uint8),
                                          _ptr(a_ids, ctypes.c_int32), _ptr(ap, ctypes.c_uint8), _ptr(ac, ctypes.c_uint8))
        masks = [np.zeros((b, tr if s == "rollout" else ta), dtype=np.uint8) for s in self.view_sources]
        pointers = (ctypes.POINTER(ctypes.c_uint8) * len(masks))(*[_ptr(m, ctypes.c_uint8) for m in masks])
        with self._lock:
            self._call("select", self.descriptor.functions.select, self._handle, ctypes.byref(batch), pointers)
        for v, m in enumerate(masks):
            if np.any(m > 1):  # a weight other than 0/1 would silently weight a token when pooled
                raise PluginError(f"plugin {self.descriptor.id}: select wrote {int(m.max())} into view {v}'s mask; masks hold 0 or 1")
        return masks

    def _batch(self, views, rewards, valid):
        n = self.view_count
        if len(views) != n:
            raise ValueError(f"plugin {self.descriptor.id} has {n} views, got {len(views)}")
        first = _f32(views[0], "views[0]")
        if first.ndim != 2 or 0 in first.shape:
            raise ValueError(f"each view must be [batch, dim], got shape {first.shape}")
        b, d = first.shape
        views = [first] + [_f32(v, f"views[{i + 1}]", (b, d)) for i, v in enumerate(views[1:])]
        rewards = _f32(rewards, "rewards", (b,))
        valid = _u8(np.ones(b) if valid is None else valid, "valid", (b,))
        pointers = (ctypes.POINTER(ctypes.c_float) * n)(*[_ptr(v, ctypes.c_float) for v in views])
        batch = _abi.wb_contrastive_batch(ctypes.sizeof(_abi.wb_contrastive_batch), b, d, n, pointers,
                                          _ptr(rewards, ctypes.c_float), _ptr(valid, ctypes.c_uint8))
        return batch, (views, rewards, valid, pointers)

    def forward(self, views: Sequence, rewards, valid=None) -> float:
        batch, keep = self._batch(views, rewards, valid)
        loss = ctypes.c_double()
        with self._lock:
            self._call("forward", self.descriptor.functions.forward, self._handle, ctypes.byref(batch), ctypes.byref(loss))
        if not math.isfinite(loss.value):
            raise PluginError(f"plugin {self.descriptor.id}'s forward returned loss {loss.value}; a plugin's outputs must be finite")
        return loss.value

    def backward(self, views: Sequence, rewards, valid=None, grad_loss: float = 1.0, need: Optional[Sequence[bool]] = None) -> List[Optional[np.ndarray]]:
        """dTotal/dview for each view (None where `need` says it is not wanted)."""
        batch, keep = self._batch(views, rewards, valid)
        need = [True] * batch.view_count if need is None else list(need)
        grads = [np.zeros((batch.batch, batch.dim), dtype=np.float32) if w else None for w in need]
        pointers = (ctypes.POINTER(ctypes.c_float) * batch.view_count)(*[_ptr(g, ctypes.c_float) for g in grads])
        with self._lock:
            self._call("backward", self.descriptor.functions.backward, self._handle, ctypes.byref(batch),
                       ctypes.c_float(grad_loss), pointers)
        for i, g in enumerate(grads):
            if g is not None:
                _check_finite(g, f"plugin {self.descriptor.id}'s backward (view {i})")
        return grads
