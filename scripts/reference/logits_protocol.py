"""What the reference checks send the engine: the prompts it is held against other
implementations on (check_transformers_export.py) and against itself in bf16 (check_bf16.py),
plain text and user turns of the chat template, and the `workbench logits` request that runs them."""
import json
import subprocess
import sys

PLAIN = [
    "The capital of France is",
    "Question:\nNatalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?\nAnswer reasoning:\n",
    "Prices: 1,234.56 € and 7% off; 12 × 34 = 408 ½ ² ٣ 🙂",
]
# The first two end with EOS well inside the window, so stopping is compared too.
CHAT = [
    "What is 2 + 3? Answer with the number only.",
    "Reply with one word: what colour is a clear sky?",
    "What is 12 + 30?",
    "Question:\nWeng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. "
    "How much did she earn?\nAnswer reasoning:\n",
]


def engine(workbench, model, prompts, chat, new_tokens, logits_dir, flags=()):
    """`workbench logits` on `model` (1 thread) for these prompts; its reply, with each prompt's
    first-token logits written to logits_dir/<i>.f32."""
    request = {"prompts": prompts, "chat": chat, "new_tokens": new_tokens, "logits_dir": logits_dir}
    r = subprocess.run([workbench, "logits", model, "--threads", "1", *flags], input=json.dumps(request),
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"workbench logits {' '.join(flags)} failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)
