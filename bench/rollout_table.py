"""Markdown table from `workbench bench rollout` and `hf_generate_rollout.py` JSON lines on stdin."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]
by = {(r["engine"], r["prompts"]): r for r in rows}
peer = "transformers"
print(f"| prompts | new tokens | workbench tok/s | {peer} tok/s | ratio (workbench / {peer}) |")
print("| ---: | ---: | ---: | ---: | ---: |")
for prompts in sorted({r["prompts"] for r in rows}, reverse=True):
    w, t = by.get(("workbench", prompts)), by.get((peer, prompts))
    made = (w or t)["new_tokens"]
    ws = f"{w['tokens_per_sec']:,.0f}" if w else "n/a"
    ts = f"{t['tokens_per_sec']:,.0f}" if t else "n/a"
    ratio = f"{w['tokens_per_sec'] / t['tokens_per_sec']:.2f}" if w and t else "n/a"
    print(f"| {prompts} | {made} | {ws} | {ts} | {ratio} |")
w = [r for r in rows if r["engine"] == "workbench"]
if len(w) == 2:
    print(f"\nworkbench batched / single-sequence: {w[0]['tokens_per_sec'] / w[1]['tokens_per_sec']:.2f}x")
