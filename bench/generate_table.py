#!/usr/bin/env python3
"""Format bench/generate.sh results as a Markdown table.

  generate_table.py DIR

Reads DIR/workbench.jsonl and DIR/llama_cpp.jsonl, each an engine's stdout: JSON lines with
"mode" (single_decode, batched, single_prompt) and "tokens_per_sec". A missing file or mode
shows as "n/a", with the last line of DIR/ENGINE.err, if any, as the reason under the table.
Standard library only, so it runs under any python3.
"""
import json
import os
import sys

ENGINES = (("workbench", "workbench"), ("llama_cpp", "llama.cpp"))
MODES = ("single_decode", "batched", "single_prompt")


def read_lines(path):
    rows = {}
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("mode") in MODES and isinstance(obj.get("tokens_per_sec"), (int, float)):
                rows[obj["mode"]] = obj
    return rows


def last_line(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def label(mode, r):
    if r is None:
        return {"single_decode": "single-sequence decode", "batched": "batched",
                "single_prompt": "single-sequence prompt processing"}[mode]
    if mode == "single_decode":
        return (f"single-sequence decode ({plural(r['rows'], 'prompt')} one at a time, "
                f"{plural(r['new_tokens_per_row'] - 1, 'token')} after the first)")
    if mode == "batched":
        return f"batched, {r['rows']} rows × {r['new_tokens_per_row']} new tokens (prompts included)"
    return f"single-sequence prompt processing ({plural(r['prompt_tokens'], 'prompt token')} in {plural(r['rows'], 'prompt')})"


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    d = argv[0]
    res = {key: read_lines(os.path.join(d, f"{key}.jsonl")) for key, _ in ENGINES}
    notes = []
    print("| mode | workbench tok/s | llama.cpp tok/s | ratio (workbench / llama.cpp) |")
    print("| --- | ---: | ---: | ---: |")
    for mode in MODES:
        wb, lc = res["workbench"].get(mode), res["llama_cpp"].get(mode)
        ratio = f"{wb['tokens_per_sec'] / lc['tokens_per_sec']:.2f}" if wb and lc and lc["tokens_per_sec"] > 0 else "n/a"
        fmt = lambda r: "n/a" if r is None else f"{r['tokens_per_sec']:,.1f}"
        print(f"| {label(mode, wb or lc)} | {fmt(wb)} | {fmt(lc)} | {ratio} |")
        for (key, name), r in zip(ENGINES, (wb, lc)):
            if r is None:
                why = last_line(os.path.join(d, f"{key}.err"))
                notes.append(f"- {mode} / {name}: no result" + (f" ({why})" if why else ""))

    anyw = next(iter(res["workbench"].values()), None)
    anyl = next(iter(res["llama_cpp"].values()), None)
    print()
    print("Greedy decoding, EOS ignored (every row makes exactly the stated number of tokens); "
          "fastest of the repeats; ratio > 1 means workbench is faster.")
    if anyw and anyl:
        same = anyw["prompts_fingerprint"] == anyl["prompts_fingerprint"]
        print(f"Threads: workbench {anyw['threads']}, llama.cpp {anyl['threads']}. Prompt tokens: "
              + ("identical in both engines (same fingerprint)." if same else
                 f"DIFFERENT (fingerprints {anyw['prompts_fingerprint']} vs {anyl['prompts_fingerprint']}): "
                 "the engines tokenised or templated the texts differently, so the rows are not comparable."))
    if anyw:
        w = anyw["weights"]
        if w == "int8":
            w = "int8 for products of up to 4 rows (8-bit weights, a GGUF block keeping its levels) and bf16 for the rest"
        print(f"workbench computes in {w} (the GGUF's weights dequantised at load), KV cache float32.")
    if anyl:
        print(f"llama.cpp (llama-cpp-python {anyl['llama_cpp_python']}, CPU) computes on the quantised weights "
              f"directly ({anyl['weights']}), KV cache {anyl['kv_cache']}, flash attention "
              f"{'on' if anyl['flash_attn'] else 'off'}; its batched rows are sequences of one context "
              "(llama_batch with a sequence id per row, as in llama.cpp's `batched` example).")
    if notes:
        print()
        print("Missing results:")
        print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
