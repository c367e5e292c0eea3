"""The part the numpy references share: greedy decoding over a model's `step(tokens, cache)` and
the JSON request/reply the Swift tests speak. Only this driver is shared; each reference keeps
its own forward pass, written from its own source (GGUF/llama.cpp or transformers)."""
import json
import os
import sys

import numpy as np


def greedy(model, prompt, n, stop):
    """Greedy continuation of `prompt` (stop token included, if drawn) and the logits after it."""
    cache = {"len": 0, "k": [None] * model.n_layer, "v": [None] * model.n_layer}
    logits = model.step(np.array(prompt), cache)
    first = logits.copy()
    out = []
    while True:
        t = int(np.argmax(logits))
        out.append(t)
        if len(out) >= n or t == stop:
            break
        logits = model.step(np.array([t]), cache)
    return out, first


def serve(model, req):
    """Answers a request {"prompts", "new_tokens", "stop", "logits_dir"} on stdout."""
    tokens = []
    for i, prompt in enumerate(req["prompts"]):
        out, first = greedy(model, prompt, int(req["new_tokens"]), req.get("stop"))
        tokens.append(out)
        if req.get("logits_dir"):
            first.astype("<f4").tofile(os.path.join(req["logits_dir"], f"{i}.f32"))
    json.dump({"tokens": tokens}, sys.stdout)
