#!/usr/bin/env python3
"""Format bench/train_step.sh results as a Markdown table.

  table.py DIR CONFIG [CONFIG ...]

For each CONFIG reads DIR/CONFIG.workbench.jsonl and DIR/CONFIG.pytorch.jsonl:
each is an engine's stdout, JSON lines; the last line that is a JSON object
with "tokens_per_sec" counts. A missing file or one with no such line shows
as "n/a" (with DIR/CONFIG.ENGINE.err, if present, as the reason under the table).
Standard library only, so it runs under any python3.
"""
import json
import os
import sys

ENGINES = ("workbench", "pytorch")


def read_result(path):
    """Return (result dict or None, reason)."""
    if not os.path.exists(path):
        return None, "no output"
    last, last_text = None, ""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line:
                last_text = line
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("tokens_per_sec"), (int, float)):
                last = obj
    if last is None:
        if last_text:
            shown = last_text if len(last_text) <= 80 else last_text[:77] + "..."
            return None, f"no JSON result line; stdout ended with: {shown!r}"
        return None, "no JSON result line"
    return last, ""


def read_reason(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read().strip()
    except OSError:
        return ""
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1].strip() if lines else ""


def fmt_tps(r):
    return "n/a" if r is None else f"{r['tokens_per_sec']:,.1f}"


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    d, configs = argv[0], argv[1:]
    rows, notes, torch_info = [], [], None
    for cfg in configs:
        res = {}
        for eng in ENGINES:
            r, why = read_result(os.path.join(d, f"{cfg}.{eng}.jsonl"))
            res[eng] = r
            if r is None:
                detail = read_reason(os.path.join(d, f"{cfg}.{eng}.err"))
                notes.append(f"- {cfg} / {eng}: {why}" + (f" ({detail})" if detail else ""))
            elif eng == "pytorch" and torch_info is None:
                torch_info = r
        wb, pt = res["workbench"], res["pytorch"]
        ratio = (f"{wb['tokens_per_sec'] / pt['tokens_per_sec']:.2f}"
                 if wb and pt and pt["tokens_per_sec"] > 0 else "n/a")
        rows.append((cfg, fmt_tps(wb), fmt_tps(pt), ratio))

    print("| config | workbench tok/s | pytorch tok/s | ratio (workbench/pytorch) |")
    print("| --- | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if torch_info:
        print()
        print(f"PyTorch {torch_info.get('torch', '?')} eager fp32, attention: "
              f"{torch_info.get('attention', '?')}, AdamW: {torch_info.get('adamw', '?')}, "
              f"threads: {torch_info.get('threads', '?')}. Ratio > 1 means workbench is faster.")
    if notes:
        print()
        print("Missing results:")
        print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
