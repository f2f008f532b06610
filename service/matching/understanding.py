"""Free text from a job request → canonical skill codes, once per request.

"照顾老人，会做粤菜, newborn care" is split into phrases; a phrase that contains an alias
is matched exactly, the rest fuzzily (rapidfuzz) against every alias of the taxonomy.
What could not be understood is reported back, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

_SPLIT = re.compile(r"[，,、；;。.\n/|+&]+|\s{2,}|(?:\s+and\s+)|和|及|还有|以及|并且|或者")
# Words that carry no skill; dropped before matching so "会做粤菜" matches "做粤菜".
_FILLER = re.compile(r"^(需要|要求|希望|能够|能|会|可以|擅长|帮忙|负责|主要|平时|每天|偶尔|一点|懂得|懂)+")
FUZZY_CUTOFF = 82.0
# Chinese phrases are short: one wrong character in four scores 75.
FUZZY_CUTOFF_CJK = 74.0
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Understood:
    matched: list[dict]  # [{text, code, name_zh, score}]
    not_understood: list[str]

    @property
    def codes(self) -> list[str]:
        return list(dict.fromkeys(m["code"] for m in self.matched))

    def as_json(self) -> dict:
        return {"matched": self.matched, "not_understood": self.not_understood}


class SkillVocabulary:
    def __init__(self, skills: dict[str, dict]) -> None:
        self._names = {code: skill["name_zh"] for code, skill in skills.items()}
        self._alias_code: dict[str, str] = {}
        for code, skill in skills.items():
            for alias in [skill["name_zh"], skill["name_en"], *skill["aliases"]]:
                self._alias_code.setdefault(utils.default_process(alias), code)
        # Longest first, so "老人护理" wins over a shorter alias inside it.
        self._aliases = sorted(self._alias_code, key=len, reverse=True)

    def understand(self, text: str) -> Understood:
        matched: list[dict] = []
        not_understood: list[str] = []
        for phrase in (p.strip() for p in _SPLIT.split(text or "")):
            if not phrase:
                continue
            core = _FILLER.sub("", phrase).strip() or phrase
            hit = self._match(core)
            if hit is None:
                not_understood.append(phrase)
            else:
                code, score = hit
                matched.append({"text": phrase, "code": code, "name_zh": self._names[code], "score": round(score, 1)})
        return Understood(matched=matched, not_understood=not_understood)

    def _match(self, phrase: str) -> tuple[str, float] | None:
        key = utils.default_process(phrase)
        if not key:
            return None
        if key in self._alias_code:
            return self._alias_code[key], 100.0
        for alias in self._aliases:
            if len(alias) >= 2 and alias in key:
                return self._alias_code[alias], 95.0
        cjk = len(_CJK.findall(key)) >= 4
        cutoff = FUZZY_CUTOFF_CJK if cjk else FUZZY_CUTOFF
        best = process.extractOne(key, self._aliases, scorer=fuzz.WRatio, processor=None, score_cutoff=cutoff)
        if best is None:
            return None
        return self._alias_code[best[0]], float(best[1])
