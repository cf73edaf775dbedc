"""Prompt complexity score in [0, 1]: how much a prompt needs a strong model."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence

from domain.cue_table import CueList, cue_table, phrases
from domain.prompt_text import PromptText, read_prompt

# Word sets and str.count (C-speed substring search) instead of big regex alternations keep a
# 500-character prompt in the tens of microseconds. "/" and "*" are not operators here: URLs
# and markdown emphasis would make ordinary chat look like arithmetic.
_OPERATORS = phrases("+|^|=|<|>|\u00d7|÷|√|∫|∑|≤|≥|≠|\\")  # and "π", see _features
_LIST_ITEM = re.compile(r"\n[ \t]*(?:\d+[.)]|[-*•])[ \t]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_CODE_WORDS = _words(
    "code coding function functions implement implementation algorithm algorithms program script"
    " python javascript typescript java rust golang sql regex api bug debug compile compiler class"
    " array arrays list lists string strings recursion recursive loop variable variables"
    " binary node nodes vertices linked pointer hashmap complexity database query html css react"
    " docker linux bash async thread parser runtime exception error refactor optimize unittest"
    " def elif struct void printf const lambda programs scripts bugs errors queries classes"
)
_CODE_TOKENS = phrases("```|{|;|==|!=|->|=>|::|()")  # and "#include", see _features
_MATH_WORDS = _words(
    "equation equations solve integral derivative probability prime remainder divisible"
    " inequality polynomial matrix vector theorem prove proof lemma triangle area perimeter"
    " radius circle angle factorial sum product ratio fraction digits integers calculate compute"
    " geometry algebra calculus statistics expected variance mean median limit converge sqrt"
    " divided multiply multiplied subtract squared cube root dice odd even integer solution"
    " primes proofs theorems integrals derivatives matrices vectors polynomials triangles angles"
    " fractions ratios infinitely"
)
# Proportional relations chain several operations: where weak models slip on word problems.
_RELATION_WORDS = _words(
    "twice thrice half double triple third quarter fifth times percent fraction ratio"
)
_RELATION_PHRASES = phrases("%|more than|less than|fewer than|at least|at most")
_REASONING_WORDS = _words(
    "why reason reasons reasoning logic logical puzzle riddle deduce infer justify assume"
    " assumption therefore implies determine whether valid uncertain true false contradiction"
    " paradox hypothetical suppose relationship puzzles riddles"
)
_REASONING_PHRASES = phrases(
    "step by step|step-by-step|explain why|true or false|edge case|show that|if and only if"
    "|given that|the following|what is the value|what is the probability"
)
_CONSTRAINT_WORDS = _words(
    "must exactly only without ensure constraint constraints format json csv yaml table"
    " requirements require required avoid strictly precise specific"
)
_OPEN_ENDED_WORDS = _words(
    "poem story stories blog email essay letter song lyrics joke slogan headline persuasive"
    " imagine pretend roleplay role character vivid creative describe tips ideas suggest"
    " recommend opinion feel favorite fun catchy"
)

# What `score_complexity_from` counts in the lower-cased prompt, in the order _features uses.
COMPLEXITY_CUES: tuple[CueList, ...] = (
    (_CODE_WORDS, _CODE_TOKENS),
    (_MATH_WORDS, _OPERATORS),
    (_RELATION_WORDS, _RELATION_PHRASES),
    (_REASONING_WORDS, _REASONING_PHRASES),
    (_CONSTRAINT_WORDS, ()),
    (_OPEN_ENDED_WORDS, ()),
)
_CUE_TABLE = cue_table(COMPLEXITY_CUES)

# With this bias the score roughly tracks how often the strong model beats the weak one on
# GSM8K (a logistic fit of the outcomes on the score is close to the identity).
_BIAS = -2.0
_LENGTH_CAP = 4000  # past a few pages, more text is context to read, not a harder task
_WEIGHTS = (  # in the order _features returns them
    ("length", 0.35),
    ("code", 2.0),
    ("math", 2.0),
    ("relations", 0.8),
    ("reasoning", 0.6),
    ("constraints", 0.3),
    ("open_ended", -1.0),
    ("structure", 0.3),
)
_WEIGHT_VALUES = tuple(weight for _, weight in _WEIGHTS)


def _saturate(count: int, half: float) -> float:
    """Diminishing returns: 0 -> 0, `half` hits -> 0.5, many -> 1."""
    return count / (count + half)


def _features(prompt: PromptText, cue_counts: Sequence[int]) -> tuple[float, ...]:
    text = prompt.text
    code, maths, relations, reasoning, constraints, open_ended = cue_counts
    # Case matters for these two, so they are counted in the original text: "Π", a Greek capital
    # in ordinary words, lower-cases to the operator "π".
    code += text.count("#include")
    maths += text.count("π")
    structure = len(_LIST_ITEM.findall(text)) + text.count("?")
    return (
        math.log1p(min(len(text), _LENGTH_CAP) / 50.0),
        _saturate(code, 2.0),
        _saturate(maths, 2.0),
        _saturate(relations, 2.0),
        _saturate(reasoning, 3.0),
        _saturate(constraints, 3.0),
        _saturate(open_ended, 1.5),
        _saturate(structure, 3.0),
    )


def score_complexity(text: str) -> float:
    """Higher means the prompt more likely needs a stronger (pricier) model."""
    return score_complexity_from(read_prompt(text))


def score_complexity_from(prompt: PromptText, cue_counts: Sequence[int] | None = None) -> float:
    """`score_complexity` on a prompt already read; `cue_counts` of `COMPLEXITY_CUES`, if taken."""
    if not prompt.text:
        return 0.0
    counts = _CUE_TABLE.count(prompt) if cue_counts is None else cue_counts
    raw = _BIAS + sum(map(operator.mul, _WEIGHT_VALUES, _features(prompt, counts)))
    return 1.0 / (1.0 + math.exp(-raw))
