"""Task kind of a prompt, guessed from keyword and syntax cues."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.cue_table import CueList, cue_table, phrases
from domain.prompt_text import PromptText, read_prompt


class TaskKind(StrEnum):
    CHAT = "chat"
    CODE = "code"
    CLASSIFY = "classify"  # classification and extraction
    SUMMARIZE = "summarize"
    TRANSLATE = "translate"
    REASONING = "reasoning"  # reasoning and math
    CREATIVE = "creative"


@dataclass(frozen=True, slots=True)
class _Cues:
    """What the user asks for (intent, weight 3) and what the prompt contains (evidence, 1)."""

    kind: TaskKind
    intent_words: frozenset[str]
    intent_phrases: tuple[str, ...]
    evidence_words: frozenset[str]
    evidence_phrases: tuple[str, ...] = ()
    intent_matches: Callable[[PromptText], int] | None = None
    evidence_matches: Callable[[PromptText], int] | None = None
    openers: tuple[str, ...] = ()  # an imperative first word is an intent on its own


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LANGUAGES = _words(
    "english french spanish german italian portuguese russian chinese japanese korean arabic"
    " hindi dutch polish turkish"
)
_TARGET_LANGUAGE = re.compile(rf"(?:into|in|to) (?:{'|'.join(sorted(_LANGUAGES))})\b")
_UNIT = r" ?(?:%|kg|mg|ml|cm|mm|km|m/s|lbs?|psi|db|kw|w|v|n|°c?|ω|元)(?!\w)"
_MEASUREMENT = re.compile(r"\d" + _UNIT)
_ASCII_MEASUREMENT = re.compile("[0-9]" + _UNIT, re.ASCII)  # the same on ASCII text, 2x faster


# The regexes are the slowest cues; each runs only when the prompt has what it needs to match.
def _target_languages(prompt: PromptText) -> int:
    """'into French', 'in Japanese': a language name that is a whole word of the prompt."""
    if prompt.words.isdisjoint(_LANGUAGES):
        return 0
    return len(_TARGET_LANGUAGE.findall(prompt.lowered))


def _measurements(prompt: PromptText) -> int:
    """A number with a unit: 5 kg, 30%, 12 m/s, 50元."""
    if not prompt.has_digits:
        return 0
    lowered = prompt.lowered
    return len((_ASCII_MEASUREMENT if lowered.isascii() else _MEASUREMENT).findall(lowered))


# Word sets and substring counts run at C speed; one regex per prompt would cost ~10x more.
# Phrases are "|"-separated lower-case substrings, so they also carry stems and other scripts.
_CUES = (
    _Cues(
        kind=TaskKind.TRANSLATE,
        intent_words=_words("translate translation translating"),
        intent_phrases=(),
        intent_matches=_target_languages,
        evidence_words=_words("language translator idiom"),
        evidence_phrases=phrases("native speaker"),
    ),
    _Cues(
        kind=TaskKind.SUMMARIZE,
        intent_words=_words(
            "summary summaries summarize summarise summarizing tldr condense recap"
        ),
        intent_phrases=phrases("tl;dr|key points|main points|key takeaways|in one sentence"),
        evidence_words=_words("article transcript paper abstract shorten brief"),
        evidence_phrases=phrases("meeting notes"),
    ),
    _Cues(
        kind=TaskKind.CODE,
        intent_words=_words(
            "code function implement debug refactor compile regex sql api bug python javascript"
            " typescript java rust golang kotlin swift php ruby html css react django flask"
            " pytorch tensorflow pandas numpy docker kubernetes bash powershell vba matlab"
            " linux postgres postgresql mysql flutter godot makefile"
        ),
        intent_phrases=phrases("```|c++|c#|unit test|k8s"),
        evidence_words=_words(
            "script program class method library framework database server website app command"
            " terminal git json yaml gpu"
        ),
        evidence_phrases=phrases("def |import |#include|return |{\n|};|();|=>|->|::|!=|=="),
    ),
    _Cues(
        kind=TaskKind.CLASSIFY,
        intent_words=_words(
            "classify classification categorize categorise category categories label labels"
            " sentiment extract extraction tag tags assign"
        ),
        intent_phrases=phrases("named entities"),
        evidence_words=_words(
            "json csv yaml positive negative neutral spam entities fields rating identify"
        ),
        evidence_phrases=phrases("scale of|the following"),
    ),
    _Cues(
        kind=TaskKind.REASONING,
        intent_words=_words(
            "solve prove proof calculate compute derive probability equation integral derivative"
            " theorem riddle puzzle logic logical combien berechne"
        ),
        intent_phrases=phrases(
            "how many|how much|how long|how far|step by step|step-by-step|find the value"
            "|find the number|find the sum|find the area|find all|what is the value"
            "|what is the sum|what is the remainder|does not belong|true, false|true or false"
            # the same intents in a few other widely used languages
            "|wie viele|calcul|resolv|demostr|démontr|ecuaci|équation|equazion|probabil|cuánt"
            "|cuant|quanto|решит|вычисл|рассчита|посчита|найдите|найти|доказ|вероятност|уравнен|сколько|tính"
            "|phương trình|bao nhiêu|证明|计算|求解|概率|方程|数学|定理|多少|確率|計算|몇|구하"
        ),
        evidence_words=_words(
            "matrix vector prime remainder integer triangle percent average total twice half"
            " ratio sum formula therefore deduce infer find velocity speed acceleration force mass"
            " density pressure voltage resistance loan distance volume"
        ),
        evidence_phrases=phrases(
            # no "*": markdown emphasis would turn ordinary chat into arithmetic
            "+|=|^|<|>|\u00d7|÷|√|∫|∑|π|≤|≥|≠|\\frac|\\sqrt|relationship between|interest rate"
        ),
        evidence_matches=_measurements,
    ),
    _Cues(
        kind=TaskKind.CREATIVE,
        intent_words=_words(
            "poem poetry story stories song lyrics rap verse verses haiku limerick novel fiction"
            " fictional fictitious screenplay episode scene sonnet fable roleplay pretend imagine"
            " persona essay slogan tagline joke jokes punchline punchlines koan dialog dialogue"
            " histoire historia cuento relato poema poesia gedicht geschichte"
        ),
        intent_phrases=phrases(
            "fairy tale|role-play|act as|role of|blog post|a script of|a script where"
            "|long script|short script"
            # the same intents in a few other widely used languages
            "|história|poème|poesía|стих|песн|рассказ|истори|сказк|сценари|басн|рифм|диалог"
            "|напиши|придумай|escrib|escrev|écri|schreib|scriv|napisz|viết|truyện|thơ|câu chuyện"
            "|kịch bản|příběh|diálogo|canción|estrofa|sceneggiatur|诗|詩|故事|小说|小説|俳句|歌词"
            "|剧本|写一|写出|作成|創作|台詞|セリフ|ラップ"
        ),
        evidence_words=_words(
            "draft character characters plot chapter script vivid creative narrative narrator"
            " rhyme rhyming email letter speech tweet headline post"
        ),
        openers=("write", "please write", "compose", "craft", "generate", "invent"),
    ),
)
# What `guess_task_from` counts in a prompt: the intent and the evidence list of each kind.
TASK_CUES: tuple[CueList, ...] = tuple(
    cue_list
    for cues in _CUES
    for cue_list in (
        (cues.intent_words, cues.intent_phrases),
        (cues.evidence_words, cues.evidence_phrases),
    )
)
_TABLE = cue_table(TASK_CUES)
_MIN_SCORE = 2  # below this no kind is convincing: plain chat
_MAX_INTENT = 3  # counted cues per kind: a long prompt does not win by repeating itself
_MAX_EVIDENCE = 4


def _score(cues: _Cues, prompt: PromptText, intent: int, evidence: int) -> int:
    if cues.openers and prompt.lowered.lstrip(" \t\n\"'*#-").startswith(cues.openers):
        intent += 1
    if cues.intent_matches:
        intent += cues.intent_matches(prompt)
    if cues.evidence_matches:
        evidence += cues.evidence_matches(prompt)
    return 3 * min(intent, _MAX_INTENT) + min(evidence, _MAX_EVIDENCE)


def guess_task(text: str) -> TaskKind:
    """Best-effort guess of what the prompt asks for; `chat` when nothing stands out."""
    return guess_task_from(read_prompt(text))


def guess_task_from(prompt: PromptText, cue_counts: Sequence[int] | None = None) -> TaskKind:
    """`guess_task` on a prompt already read; `cue_counts` of `TASK_CUES`, if already taken."""
    counts = _TABLE.count(prompt) if cue_counts is None else cue_counts
    best, best_score = TaskKind.CHAT, _MIN_SCORE - 1
    for cues, intent, evidence in zip(_CUES, counts[::2], counts[1::2], strict=True):
        score = _score(cues, prompt, intent, evidence)
        if score > best_score:  # ties go to the earlier, more specific kind
            best, best_score = cues.kind, score
    return best
