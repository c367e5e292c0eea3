"""A reward plugin as a TRL reward function (GRPOTrainer, RLOOTrainer, ...): TRL calls
`reward(prompts=..., completions=..., **dataset_columns)` and wants one float per completion."""
import re
from typing import List, Optional

from .instances import Reward


def _message_text(x) -> str:
    """A completion or prompt in TRL's standard form (a string) or conversational form (a list of
    {"role", "content"} messages): the text of the last message."""
    if isinstance(x, str):
        return x
    if isinstance(x, list) and x and isinstance(x[-1], dict):
        return str(x[-1].get("content", ""))
    return str(x)


def _gold_value(raw, column: str, row: int) -> float:
    if isinstance(raw, (int, float)):
        return float(raw)
    text = str(raw)
    if "####" in text:          # GSM8K's answer field: rationale, then "#### 72"
        text = text.rsplit("####", 1)[1]
    text = text.strip().replace(",", "")
    try:
        return float(text)
    except ValueError:
        m = re.fullmatch(r"\s*[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?\s*", text)
        raise ValueError(f"the dataset's '{column}' column, row {row}, holds {raw!r}, which is not a number "
                         f"(nor GSM8K's '... #### <number>'); point answer_column at the gold answers") from None


class WorkbenchReward:
    """`reward_funcs=[WorkbenchReward("libexample.so", id="org.example.reward.format-aware", partial=0.2)]`.

    answer_column: the dataset column with the gold answer (a number, numeric text, or GSM8K's
    "... #### 72"); TRL passes every column of the dataset to reward functions.
    question_column: the column the plugin gets as the question; by default the prompt's text
    (the last message of a conversational prompt).
    """

    def __init__(self, library, id: Optional[str] = None, answer_column: str = "answer",
                 question_column: Optional[str] = None, **config):
        self.reward = Reward(library, id, **config)
        self.answer_column = answer_column
        self.question_column = question_column
        # TRL names each reward function's column in its logs by __name__.
        self.__name__ = self.reward.descriptor.id.rsplit(".", 1)[-1]

    def __call__(self, prompts, completions, **kwargs) -> List[float]:
        if self.answer_column not in kwargs:
            have = ", ".join(sorted(k for k in kwargs if not k.startswith("completion"))) or "none"
            raise KeyError(f"WorkbenchReward needs the gold answers in the dataset column '{self.answer_column}' "
                           f"(columns TRL passed: {have}); set answer_column=")
        golds = [_gold_value(g, self.answer_column, i) for i, g in enumerate(kwargs[self.answer_column])]
        if self.question_column is not None:
            if self.question_column not in kwargs:
                raise KeyError(f"no dataset column '{self.question_column}' for question_column")
            questions = [str(q) for q in kwargs[self.question_column]]
        else:
            questions = [_message_text(p) for p in prompts]
        scores = self.reward.score(questions, [_message_text(c) for c in completions], golds)
        return [float(s) for s in scores]

    def __repr__(self):
        return f"WorkbenchReward({self.reward!r}, answer_column={self.answer_column!r})"
