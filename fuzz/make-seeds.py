#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into fuzz/corpus/<target>/: tiny valid inputs
(plus a few near misses) so the fuzzer starts deep inside each format instead of spending its
first million runs discovering the magic bytes. Deterministic; run it again after changing it and
commit the result. Usage: python3 fuzz/make-seeds.py"""
import json, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# --- GGUF (version 3, little-endian) ---------------------------------------------------------
def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b

SCALAR = {"u8": (0, "<B"), "i8": (1, "<b"), "u16": (2, "<H"), "i16": (3, "<h"), "u32": (4, "<I"),
          "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<B"), "u64": (10, "<Q"), "i64": (11, "<q"),
          "f64": (12, "<d")}

def gvalue(kind, v):
    """(type tag, payload) of a metadata value."""
    if kind == "str":
        return 8, gstr(v)
    if kind == "arr":
        etype, items = v
        out = b""
        for item in items:
            out += gvalue(etype, item)[1]
        tag = 9 if etype == "arr" else (8 if etype == "str" else SCALAR[etype][0])
        return 9, struct.pack("<IQ", tag, len(items)) + out
    tag, fmt = SCALAR[kind]
    return tag, struct.pack(fmt, v)

def gguf(metadata, tensors, alignment=32):
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, kind, v in metadata:
        tag, payload = gvalue(kind, v)
        out += gstr(key) + struct.pack("<I", tag) + payload
    data, offsets = b"", []
    for name, shape, gtype, raw in tensors:
        while len(data) % alignment:
            data += b"\0"
        offsets.append(len(data))
        data += raw
    for (name, shape, gtype, raw), off in zip(tensors, offsets):
        out += gstr(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", n) for n in shape)
        out += struct.pack("<IQ", gtype, off)
    while len(out) % alignment:
        out += b"\0"
    return out + data

f32 = lambda xs: b"".join(struct.pack("<f", x) for x in xs)
f16 = lambda xs: b"".join(struct.pack("<e", x) for x in xs)
q8_0 = struct.pack("<e", 0.5) + bytes((i * 7) & 0xFF for i in range(32))
q4_0 = struct.pack("<e", 0.25) + bytes(range(16))
q4_1 = struct.pack("<ee", 0.25, -1.0) + bytes(range(16, 32))
q4_K = struct.pack("<ee", 0.5, 0.125) + bytes(range(12)) + bytes((i * 13) & 0xFF for i in range(128))
q5_K = struct.pack("<ee", 0.5, 0.125) + bytes(range(12)) + bytes(range(32)) + bytes((i * 5) & 0xFF for i in range(128))
q6_K = bytes((i * 3) & 0xFF for i in range(128)) + bytes((i * 11) & 0xFF for i in range(64)) + bytes(range(16)) + struct.pack("<e", 0.5)

meta = [("general.architecture", "str", "llama"), ("general.name", "str", "tiny"),
        ("llama.block_count", "u32", 2), ("llama.embedding_length", "u64", 8),
        ("llama.rope.freq_base", "f32", 10000.0), ("llama.attention.layer_norm_rms_epsilon", "f64", 1e-5),
        ("tokenizer.ggml.add_bos_token", "bool", 1), ("test.i8", "i8", -3), ("test.u8", "u8", 200),
        ("test.i16", "i16", -300), ("test.u16", "u16", 60000), ("test.i32", "i32", -7), ("test.i64", "i64", -9),
        ("tokenizer.ggml.tokens", "arr", ("str", ["<s>", "a", "Ġthe"])),
        ("tokenizer.ggml.scores", "arr", ("f32", [0.0, -1.5, -2.0])),
        ("test.nested", "arr", ("arr", [("i32", [1, -2]), ("u8", [7])]))]
put("gguf", "metadata-and-tensors", gguf(meta, [
    ("norm.weight", [4], 0, f32([1, -2, 3.5, 0])),
    ("w.f16", [2, 2], 1, f16([0.5, -1, 2, 65504])),
    ("w.q8_0", [32, 1], 8, q8_0),
    ("w.q4_0", [32], 2, q4_0),
    ("w.q4_1", [32], 3, q4_1),
    ("w.q4_K", [256], 12, q4_K),
    ("w.q5_K", [256], 13, q5_K),
    ("w.q6_K", [256], 14, q6_K),
    ("w.bf16", [2], 30, b"\x80\x3f\x00\xc0"),
]))
put("gguf", "aligned-64", gguf([("general.alignment", "u32", 64)], [("a", [3], 0, f32([1, 2, 3])), ("b", [1, 1], 0, f32([4]))], alignment=64))
put("gguf", "empty", gguf([], []))
put("gguf", "unknown-type", gguf([], [("x", [32], 9, bytes(40))]))

# --- safetensors -----------------------------------------------------------------------------
def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data

put("safetensors", "three-dtypes.safetensors", safetensors([
    ("a", "F32", [2, 2], f32([1, 2, 3, 4])), ("b", "F16", [3], f16([0.5, -2, 1e-4])),
    ("c", "BF16", [1], b"\x80\x3f"), ("empty", "F32", [0, 3], b"")],
    {"format": "pt", "step": "12"}))
put("safetensors", "scalar.safetensors", safetensors([("s", "F32", [], f32([7]))]))
put("safetensors", "header-only.safetensors", safetensors([], {"tokenizer": "t"}))

# --- the data formats ------------------------------------------------------------------------
put("gsm8k", "three",
    '{"question": "Q1?", "answer": "Half is 48/2 = <<48/2=24>>24.\\nTotal 48+24 = <<48+24=72>>72.\\n#### 72"}\n'
    '\n'
    '{"question": "Q2?", "answer": "Big 1000*2 = <<1000*2=2000>>2,000.\\n#### 2,000"}\n'
    '{"question": "Q3?", "answer": "  Lost 5.  \\r\\n#### -5\\n"}\n')
put("gsm8k", "one", '{"question": "How many?", "answer": "#### $1.5"}')

put("svamp", "two.jsonl",
    '{"Body": "There are 87 oranges and 290 bananas.", "Question": "How big is each group?", '
    '"Equation": "( 290.0 / 2.0 )", "Answer": 145.0, "ID": "chal-777", "Type": "Common-Division"}\n'
    '{"Question": "What is 2 + 2?", "Answer": "4"}\n')

put("reft", "two.json", json.dumps([
    {"question": "Q1?", "answer_cot": "a = 2\nb = 3\nTherefore, the answer is 5.", "answer_value": "5.0", "item_id": "svamp_1"},
    {"question": "Q2?", "answer_value": 12.5, "item_id": 7},
    {"question": "Q3?", "answer_cot": "It is -1,000. Therefore, the answer is: <-1,000>.", "answer_value": "-1,000", "item_id": None},
], indent=1))

# --- TOML (experiment files) -----------------------------------------------------------------
put("toml", "experiment.toml", '''# a comment
name = "carft-vs-baselines"
seeds = [0, 1, 2,]
baseline = 'reft'
jobs = 2

[data]
train-size = 1_000
lr = 2e-5
ratio = -0.5
on = true

[warmup]
steps = 1200

[[variant]]
name = "reft"   # trailing comment
algorithm = "reft"
plugins = [
  "builtin:carft-embedding",  # one per line
  "lib\\\\x.so:k=v",
]

[[variant]]
"quoted key" = "tab\\there \\u00e9 \\U0001F600"
nested = [[1, 2], [], ["a"]]
''')
put("toml", "crlf.toml", 'a = 1\r\n[t]\r\nb = "x"\r\n')

# --- --reward-fn ------------------------------------------------------------------------------
put("reward-fn", "positional", "./libmine.so:score:f64(str,str)")
put("reward-fn", "named", "/opt/r:x/libmine.so:score:f32(gold_value:f64, completion:str, prompt:str)")
put("reward-fn", "signature-only", "i64( completion:str , gold:str )")
put("reward-fn", "three", "lib.so:_s1:i32(str, f64, str)")
