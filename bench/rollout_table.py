"""Markdown table from `workbench bench rollout` JSON lines on stdin."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]
print("| prompts | new tokens | tokens/s | seconds |")
print("| ---: | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r['prompts']} | {r['new_tokens']} | {r['tokens_per_sec']:,.0f} | {r['seconds']:.3f} |")
if len(rows) == 2:
    print(f"\nbatched / single-sequence: {rows[0]['tokens_per_sec'] / rows[1]['tokens_per_sec']:.2f}x")
