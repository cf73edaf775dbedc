"""Task kind of a prompt, guessed from keyword and syntax cues."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class TaskKind(StrEnum):
    CHAT = "chat"
    CODE = "code"
    CLASSIFY = "classify"  # classification and extraction
    SUMMARIZE = "summarize"
    TRANSLATE = "translate"
    REASONING = "reasoning"  # reasoning and math
    CREATIVE = "creative"


@dataclass(frozen=True, slots=True)
class _Phrases:
    """Lower-case substrings; those outside ASCII cannot occur in an ASCII prompt."""

    ascii: tuple[str, ...]
    other: tuple[str, ...]

    def count_in(self, text: str) -> int:
        hits = sum(map(text.count, self.ascii))
        if text.isascii():  # O(1) in CPython
            return hits
        return hits + sum(map(text.count, self.other))


def _phrases(text: str) -> _Phrases:
    items = text.split("|") if text else []
    return _Phrases(
        ascii=tuple(p for p in items if p.isascii()),
        other=tuple(p for p in items if not p.isascii()),
    )


_NO_PHRASES = _phrases("")


@dataclass(frozen=True, slots=True)
class _Cues:
    """What the user asks for (intent, weight 3) and what the prompt contains (evidence, 1)."""

    kind: TaskKind
    intent_words: frozenset[str]
    intent_phrases: _Phrases
    evidence_words: frozenset[str]
    evidence_phrases: _Phrases = _NO_PHRASES
    intent_pattern: re.Pattern[str] | None = None
    evidence_pattern: re.Pattern[str] | None = None
    openers: tuple[str, ...] = ()  # an imperative first word is an intent on its own


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Word sets and substring counts run at C speed; one regex per prompt would cost ~10x more.
# Phrases are "|"-separated lower-case substrings, so they also carry stems and other scripts.
_CUES = (
    _Cues(
        kind=TaskKind.TRANSLATE,
        intent_words=_words("translate translation translating"),
        intent_phrases=_NO_PHRASES,
        intent_pattern=re.compile(
            r"(?:into|in|to) (?:english|french|spanish|german|italian|portuguese|russian|chinese"
            r"|japanese|korean|arabic|hindi|dutch|polish|turkish)\b"
        ),
        evidence_words=_words("language translator idiom"),
        evidence_phrases=_phrases("native speaker"),
    ),
    _Cues(
        kind=TaskKind.SUMMARIZE,
        intent_words=_words(
            "summary summaries summarize summarise summarizing tldr condense recap"
        ),
        intent_phrases=_phrases("tl;dr|key points|main points|key takeaways|in one sentence"),
        evidence_words=_words("article transcript paper abstract shorten brief"),
        evidence_phrases=_phrases("meeting notes"),
    ),
    _Cues(
        kind=TaskKind.CODE,
        intent_words=_words(
            "code function implement debug refactor compile regex sql api bug python javascript"
            " typescript java rust golang kotlin swift php ruby html css react django flask"
            " pytorch tensorflow pandas numpy docker kubernetes k8s bash powershell vba matlab"
            " linux postgres postgresql mysql flutter godot makefile"
        ),
        intent_phrases=_phrases("```|c++|c#|unit test"),
        evidence_words=_words(
            "script program class method library framework database server website app command"
            " terminal git json yaml gpu"
        ),
        evidence_phrases=_phrases("def |import |#include|return |{\n|};|();|=>|->|::|!=|=="),
    ),
    _Cues(
        kind=TaskKind.CLASSIFY,
        intent_words=_words(
            "classify classification categorize categorise category categories label labels"
            " sentiment extract extraction tag tags assign"
        ),
        intent_phrases=_phrases("named entities"),
        evidence_words=_words(
            "json csv yaml positive negative neutral spam entities fields rating identify"
        ),
        evidence_phrases=_phrases("scale of|the following"),
    ),
    _Cues(
        kind=TaskKind.REASONING,
        intent_words=_words(
            "solve prove proof calculate compute derive probability equation integral derivative"
            " theorem riddle puzzle logic logical combien berechne"
        ),
        intent_phrases=_phrases(
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
        evidence_phrases=_phrases(
            # no "*": markdown emphasis would turn ordinary chat into arithmetic
            "+|=|^|<|>|\u00d7|÷|√|∫|∑|π|≤|≥|≠|\\frac|\\sqrt|relationship between|interest rate"
        ),
        evidence_pattern=re.compile(
            r"\d ?(?:%|kg|mg|ml|cm|mm|km|m/s|lbs?|psi|db|kw|w|v|n|°c?|ω|元)(?!\w)"
        ),
    ),
    _Cues(
        kind=TaskKind.CREATIVE,
        intent_words=_words(
            "poem poetry story stories song lyrics rap verse verses haiku limerick novel fiction"
            " fictional fictitious screenplay episode scene sonnet fable roleplay pretend imagine"
            " persona essay slogan tagline joke jokes punchline punchlines koan dialog dialogue"
            " histoire historia cuento relato poema poesia gedicht geschichte"
        ),
        intent_phrases=_phrases(
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
_WORD = re.compile(r"[a-z0-9]+")
_MIN_SCORE = 2  # below this no kind is convincing: plain chat


def _matches(text: str, pattern: re.Pattern[str] | None) -> int:
    return 0 if pattern is None else len(pattern.findall(text))


def _score(cues: _Cues, lowered: str, words: set[str]) -> int:
    intent = (
        len(words & cues.intent_words)
        + cues.intent_phrases.count_in(lowered)
        + _matches(lowered, cues.intent_pattern)
    )
    evidence = (
        len(words & cues.evidence_words)
        + cues.evidence_phrases.count_in(lowered)
        + _matches(lowered, cues.evidence_pattern)
    )
    if cues.openers and lowered.lstrip(" \t\n\"'*#-").startswith(cues.openers):
        intent += 1
    return 3 * min(intent, 3) + min(evidence, 4)


def guess_task(text: str) -> TaskKind:
    """Best-effort guess of what the prompt asks for; `chat` when nothing stands out."""
    lowered = text.lower()
    words = set(_WORD.findall(lowered))
    best, best_score = TaskKind.CHAT, _MIN_SCORE - 1
    for cues in _CUES:  # ties go to the earlier, more specific kind
        score = _score(cues, lowered, words)
        if score > best_score:
            best, best_score = cues.kind, score
    return best
