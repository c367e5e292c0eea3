#!/usr/bin/env python3
"""Reference data for the Swift GGUF reader's tests, from an independent implementation: the
`gguf` Python package (llama.cpp's own reader and numpy dequantisers). Run with the Python of
.venv-ref (scripts/setup-reference.sh installs it).

  gguf_quants.py quant TYPE SEED OUT_DIR
      Writes OUT_DIR/TYPE.bin, quantised bytes of TYPE (rows of ROW_LENGTH elements), and
      OUT_DIR/TYPE.f32, gguf's dequantisation of those bytes as little-endian float32.
      Prints one JSON line: {"type", "rows", "row_length", "method"}.
        F32: random normals with signed zeros, infinities and subnormals mixed in.
        F16, BF16: all 65536 bit patterns in a random order (an exhaustive check).
        Block types: rows quantised by gguf.quants.quantize where this gguf version can
        quantise the type, followed by rows of random blocks whose float16 scale fields are
        random finite values (no NaN or Inf), so every bit of every field is exercised even
        where gguf has only a dequantiser (K-quants).

  gguf_quants.py model GGUF_PATH OUT_DIR NAME...
      Writes OUT_DIR/directory.json (every metadata field with its types and value, every
      tensor's name, ggml-order shape, type number, absolute data offset, element and byte
      counts) and OUT_DIR/<i>.f32, the dequantised values of the i-th NAME in file order.
"""
import json
import os
import sys

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFReader, GGUFValueType
from gguf.constants import GGML_QUANT_SIZES
import gguf.quants as quants

ROW_LENGTH = 512
QUANTISED_ROWS = 4
RANDOM_ROWS = 16

# Byte offsets of the float16 scale fields inside one block, per ggml's block structs.
SCALE_FIELDS = {
    T.Q8_0: [0], T.Q4_0: [0], T.Q4_1: [0, 2],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}


def finite_f16_bits(rng, n):
    """Random float16 bit patterns with the exponent not all ones (so neither NaN nor Inf)."""
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32)
    special = (bits & 0x7C00) == 0x7C00
    bits[special] &= ~np.uint32(0x4000)  # clear one exponent bit: still random, now finite
    return bits.astype(np.uint16)


def quant_case(name, seed, out_dir):
    qtype = T[name]
    rng = np.random.default_rng(seed)
    method = ""
    if qtype in (T.F16, T.BF16):
        data = rng.permutation(np.arange(1 << 16, dtype=np.uint32)).astype(np.uint16)
        raw = data.view(np.uint8).reshape(-1, ROW_LENGTH * 2)
        method = "all-bit-patterns"
    elif qtype == T.F32:
        values = rng.standard_normal(QUANTISED_ROWS * ROW_LENGTH).astype(np.float32)
        values[:6] = [0.0, -0.0, np.inf, -np.inf, 1e-45, -3e-39]
        raw = quants.quantize(values.reshape(QUANTISED_ROWS, ROW_LENGTH), qtype).view(np.uint8)
        method = "values"
    else:
        block, size = GGML_QUANT_SIZES[qtype]
        parts = []
        values = (rng.standard_normal((QUANTISED_ROWS, ROW_LENGTH)) * rng.uniform(0.01, 3)).astype(np.float32)
        try:
            parts.append(quants.quantize(values, qtype).reshape(QUANTISED_ROWS, -1))
            method = "quantize+random-blocks"
        except (NotImplementedError, quants.QuantError):
            method = "random-blocks"
        blocks = rng.integers(0, 256, size=(RANDOM_ROWS * ROW_LENGTH // block, size), dtype=np.uint8)
        for offset in SCALE_FIELDS[qtype]:
            blocks[:, offset:offset + 2] = finite_f16_bits(rng, blocks.shape[0]).view(np.uint8).reshape(-1, 2)
        parts.append(blocks.reshape(RANDOM_ROWS, -1))
        raw = np.concatenate(parts, axis=0)
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    reference = quants.dequantize(raw, qtype).astype(np.float32, copy=False)
    rows = raw.shape[0]
    assert reference.size == rows * ROW_LENGTH, (reference.shape, rows)
    with open(os.path.join(out_dir, name + ".bin"), "wb") as f:
        f.write(raw.tobytes())
    with open(os.path.join(out_dir, name + ".f32"), "wb") as f:
        f.write(reference.astype("<f4").tobytes())
    print(json.dumps({"type": name, "rows": rows, "row_length": ROW_LENGTH, "method": method}))


def field_value(field):
    main = field.types[0]
    if main == GGUFValueType.ARRAY and len(field.types) > 2:
        # contents() does not unpack nested arrays; the Swift tests check those on their own files.
        return None
    value = field.contents()
    if isinstance(value, list):
        return [v.item() if hasattr(v, "item") else v for v in value]
    return value.item() if hasattr(value, "item") else value


def model_case(path, out_dir, names):
    reader = GGUFReader(path, "r")
    metadata = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):  # the reader's pseudo-fields for the header
            continue
        metadata[key] = {"types": [t.name for t in field.types], "value": field_value(field)}
    tensors = [{
        "name": t.name, "shape": [int(x) for x in t.shape], "type": int(t.tensor_type),
        "offset": int(t.data_offset), "elements": int(t.n_elements), "bytes": int(t.n_bytes),
    } for t in reader.tensors]
    with open(os.path.join(out_dir, "directory.json"), "w") as f:
        json.dump({"metadata": metadata, "tensors": tensors}, f)
    by_name = {t.name: t for t in reader.tensors}
    for i, name in enumerate(names):
        t = by_name[name]
        values = quants.dequantize(t.data, t.tensor_type).astype("<f4", copy=False)
        with open(os.path.join(out_dir, f"{i}.f32"), "wb") as f:
            f.write(values.tobytes())
    print(json.dumps({"metadata": len(metadata), "tensors": len(tensors), "dequantised": len(names)}))


def main(argv):
    if len(argv) == 4 and argv[0] == "quant":
        quant_case(argv[1], int(argv[2]), argv[3])
    elif len(argv) >= 3 and argv[0] == "model":
        model_case(argv[1], argv[2], argv[3:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
