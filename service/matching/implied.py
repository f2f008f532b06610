"""Terms a household's words imply, read from the request's free text.

"住家" means live-in, "钟点工，每周两次，每次三小时" means paid by the hour, two visits a week
of three hours, "带睡" means the worker sleeps with the baby, "预产期3月15号" dates a 月嫂 job.
These are shown back in `understood.implied` for the person to confirm; they never change the
request's own fields.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from service.matching.understanding import SkillVocabulary, chinese_number, normalize

_NUM = r"(\d{1,3}|[一二两三四五六七八九十]{1,3}|半)"
_NEG = r"(?<!不)(?<!唔)(?<!非)"

_LIVE_OUT = re.compile(
    r"不住家|唔住家|不用住家|不包住|不住在家|住自己家|白天来晚上走|朝九晚五|走家|live[- ]out|not live[- ]in"
)
_LIVE_IN = re.compile(_NEG + r"(住家|住在家里|住在我家|包吃包住|包吃住|包住|同住|live[- ]in)")
_HOURLY = re.compile(
    r"钟点|小时工|按小时|每小时|一小时\s*\d+|\d+\s*(?:元|块|蚊)\s*(?:/|每|一)\s*(?:小时|个钟)|per hour|hourly|"
    r"part[- ]time"
)
_DAILY = re.compile(r"按天|日薪|一天\s*\d+\s*(?:元|块|蚊)|\d+\s*(?:元|块|蚊)\s*(?:/|每|一)\s*天|per day|daily rate")
_MONTHLY = re.compile(
    r"月薪|包月|按月|每月\s*\d+|一个月\s*\d+|\d+\s*(?:元|块|蚊)?\s*(?:/|每|一)\s*(?:个)?月|per month|monthly"
)
_VISITS = re.compile(
    r"(?:每|一)(?:个)?(?:周|星期|礼拜|禮拜)\s*(?:来|上门|过来|做)?\s*" + _NUM + r"\s*(?:次|回|日|天)"
    r"|(once|twice|\d+\s*times?|three times|four times|five times)\s*(?:a|per)\s*week"
)
_HOURS_PER_VISIT = re.compile(
    r"每次\s*"
    + _NUM
    + r"\s*(?:个)?(?:小时|钟|钟头|個鐘|个钟)(半)?|"
    + _NUM
    + r"\s*(?:个)?(?:小时|钟头|个钟)(半)?\s*(?:/|每|一)\s*次|(\d{1,2})\s*hours?\s*(?:each|per visit|a visit)"
)
_HOURS_PER_WEEK = re.compile(
    r"(?:每|一)(?:周|星期|礼拜)\s*" + _NUM + r"\s*(?:个)?(?:小时|钟头)|(\d{1,2})\s*hours?\s*(?:a|per)\s*week"
)
_SHIFTS = (
    (
        "overnight",
        re.compile(r"带睡|帶睡|陪睡|带夜|湊夜|守夜|过夜|通宵|24\s*小时|二十四小时|全天候|overnight|24/7|24 hours"),
    ),
    ("night", re.compile(r"夜班|晚班|夜更|night shift|nights")),
    ("day", re.compile(r"白班|日班|白天班|早班|日更|day shift|daytime")),
)
_SHIFT_HOURS = {"day": "08:00-20:00", "night": "20:00-08:00", "overnight": "20:00-08:00"}
_CLOCK = re.compile(
    r"(早上|上午|中午|下午|晚上|夜里|朝早|夜晚)?\s*(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:点|點|:00)(半)?\s*"
    r"(?:到|至|-|~|—)\s*(早上|上午|中午|下午|晚上|夜里|朝早|夜晚)?\s*(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:点|點|:00)(半)?"
)
_DUE = re.compile(
    r"(?:预产期|预产|due date|due)\s*(?:是|在|为|係|喺|:|：|is|in|on)?\s*"
    r"(?:(明年|今年|后年|(\d{4})\s*年)\s*)?(\d{1,2}|[一二两三四五六七八九十]{1,3}|十一|十二)\s*月"
    r"(?:\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:号|日|號))?|"
    r"(?:预产期|预产|due date)\s*(?:是|在|为|:|：)?\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?"
)
# "明年3月出生", "宝宝预计12月中生": a birth month without the word 预产期.
_BIRTH = re.compile(
    r"(?:(明年|今年|后年|(\d{4})\s*年)\s*)?(\d{1,2}|十一|十二|[一二三四五六七八九十])\s*月"
    r"(?:\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*(?:号|日))?\s*(?:份)?\s*(?:左右|前后|底|初|中|上旬|中旬|下旬)?"
    r"\s*(?:预计|预产|会)?\s*(?:出生|出世|生产|生宝宝|生bb|临盆|分娩|生(?!日|活|意|效))"
)
_MONTHS_EN = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_DUE_EN = re.compile(
    r"\b(?:due|expecting|baby due|due date)\s*(?:date)?\s*(?:is|in|on|:)?\s*(?:around|about|roughly)?\s*(?:early|mid|late|end of)?\s*-?\s*"
    r"(" + "|".join(_MONTHS_EN) + r"|" + "|".join(m[:3] for m in _MONTHS_EN) + r")\b\s*(\d{1,2})?"
)
# Where in the month, or how loosely: "12月中", "3月初", "下旬", "左右", "early March", "around".
# English words count only as whole words ("mid" is not in "midwife", "early" not in "yearly").
_PART_OF_MONTH = (
    (re.compile(r"^\s*(?:份)?\s*(?:初|上旬|月头|头)|\b(?:early|beginning of)\b"), (1, 10)),
    (re.compile(r"^\s*(?:份)?\s*(?:中旬|中|月中)|\bmid\b"), (11, 20)),
    (re.compile(r"^\s*(?:份)?\s*(?:下旬|底|末|尾|月尾|月底)|\b(?:late|end of)\b"), (21, 31)),
)
_ABOUT = re.compile(r"^\s*(?:左右|前后|上下|附近)|\b(?:around|about|approximately|approx|roughly)\b|\bc\.")
# "2027年1月5日左右": a day written loosely stands for the week either side of it.
ABOUT_DAYS = 7
_WEEKDAYS = re.compile(r"(?:周|星期|礼拜)一(?:到|至|-|~)(?:周|星期|礼拜)?五|工作日|返工日|weekdays|monday to friday")
_AFTERNOON = {"下午", "晚上", "夜里", "夜晚"}


def _number(token: str | None) -> float | None:
    if not token:
        return None
    token = token.strip()
    if token == "半":
        return 0.5
    if token in {"once"}:
        return 1
    if token in {"twice"}:
        return 2
    if token.startswith(("three", "four", "five")):
        return {"three": 3, "four": 4, "five": 5}[token.split()[0]]
    digits = re.match(r"\d+", token)
    if digits:
        return int(digits.group())
    return chinese_number(token)


def _clock(period: str | None, hour: int, half: str | None) -> str:
    if period in _AFTERNOON and hour < 12:
        hour += 12
    if period in {"晚上", "夜里", "夜晚"} and hour == 24:
        hour = 0
    return f"{hour % 24:02d}:{'30' if half else '00'}"


def _due_date(match: re.Match, today: date) -> str | None:
    if match.group(5):  # ISO-like 2027-03-15
        year, month = int(match.group(5)), int(match.group(6))
        day = int(match.group(7)) if match.group(7) else None
    else:
        return _due_on(match.group(1), match.group(2), _number(match.group(3)), _number(match.group(4)), today)
    try:
        return date(year, month, day).isoformat() if day else date(year, month, 1).isoformat()[:7]
    except ValueError:
        return None


def _due_on(
    relative: str | None, explicit: str | None, month: float | None, day: float | None, today: date
) -> str | None:
    """The date a due date written as (明年|今年|2027年)? M月 (D号)? stands for: the next one ahead."""
    if not month or not 1 <= month <= 12:
        return None
    month = int(month)
    if explicit:
        year = int(explicit)
    elif relative == "明年":
        year = today.year + 1
    elif relative == "后年":
        year = today.year + 2
    elif relative == "今年":
        year = today.year
    else:  # the next such month: a due date is ahead
        year = today.year if (month, day or 31) >= (today.month, today.day) else today.year + 1
    day = int(day) if day else None
    try:
        return date(year, month, day).isoformat() if day else date(year, month, 1).isoformat()[:7]
    except ValueError:
        return None


# "预产期下个月", "宝宝下个月出生", "baby due next month": a relative month counts only next to a
# word for the birth; "先生下个月出差" and "rent is due next month" are not due dates.
_BIRTH_WORD = r"(?:预产期|预产|生产|生宝宝|生bb|分娩|出生|出世|临盆|(?:预计|会|要)生)"
_RELATIVE_MONTH = r"(下个月|下月|这个月|本月|今个月|next month|this month)"
_DUE_RELATIVE = re.compile(
    _BIRTH_WORD + r"\s*(?:是|在|为|係|喺|:|：)?\s*" + _RELATIVE_MONTH + r"|"
    r"\b(?:baby(?:'s| is)? due|due date|expecting)\s*(?:is|in|on|:)?\s*"
    + _RELATIVE_MONTH
    + r"|"
    + _RELATIVE_MONTH
    + r"\s*(?:份)?\s*(?:左右|前后|底|初|中|上旬|中旬|下旬)?\s*(?:预计|预产|会|要)?\s*"
    r"(?:出生|出世|生产|生宝宝|生bb|临盆|分娩|生(?!日|活|意|效))"
)
# Due dates are read only in the years around the day written: 预产期9999-12-30 is not one.
YEARS_BEHIND, YEARS_AHEAD = 1, 2


def _plausible(due: str | None, today: date) -> str | None:
    if due and today.year - YEARS_BEHIND <= int(due[:4]) <= today.year + YEARS_AHEAD:
        return due
    return None


def due_window(due: str, after: str, before: str = "") -> tuple[str, str, str]:
    """The 预产期 window (due_date_from, due_date_to) a due date stands for, given the words around it.

    A day is itself, or the week either side when written loosely (左右, around); a month is the whole
    month, or its first, middle or last ten days (初 / 中 / 底, early / mid / late). The third value is the
    qualifying word written right after the date ("" if none), for the evidence."""
    if len(due) == 10:
        day = date.fromisoformat(due)
        loose = _ABOUT.search(after)
        if loose or _ABOUT.search(before):
            return (
                (day - timedelta(days=ABOUT_DAYS)).isoformat(),
                (day + timedelta(days=ABOUT_DAYS)).isoformat(),
                loose.group(0).strip() if loose and loose.start() == 0 else "",
            )
        return due, due, ""
    year, month = int(due[:4]), int(due[5:7])
    last = calendar.monthrange(year, month)[1]
    for pattern, (start, end) in _PART_OF_MONTH:
        part = pattern.search(after)
        if part or pattern.search(before):
            written = part.group(0).strip() if part and part.start() == 0 else ""
            return date(year, month, start).isoformat(), date(year, month, min(end, last)).isoformat(), written
    return date(year, month, 1).isoformat(), date(year, month, last).isoformat(), ""


def read_implied(text: str, *, today: date) -> dict:
    """{live_in?, wage_unit?, visits_per_week?, hours_per_visit?, hours_per_week?, shift?, hours?,
    due_date?, due_date_from?, due_date_to?, evidence: {field: text}} — only what the text says.

    Relative dates ("明年3月", "12月中") are read against `today`: the day the request was written."""
    text = normalize(text)
    implied: dict = {}
    evidence: dict[str, str] = {}

    def note(key: str, value, match: re.Match | str) -> None:
        if key not in implied:
            implied[key] = value
            evidence[key] = match if isinstance(match, str) else match.group(0).strip()

    if m := _LIVE_OUT.search(text):
        note("live_in", False, m)
    elif m := _LIVE_IN.search(text):
        note("live_in", True, m)
    if m := _HOURLY.search(text):
        note("wage_unit", "hour", m)
        if "钟点" in m.group(0) or "小时工" in m.group(0):
            note("live_in", False, m)
    elif m := _DAILY.search(text):
        note("wage_unit", "day", m)
    elif m := _MONTHLY.search(text):
        note("wage_unit", "month", m)
    if m := _VISITS.search(text):
        visits = _number(m.group(1) or m.group(2))
        if visits and 1 <= visits <= 14:
            note("visits_per_week", int(visits), m)
    elif m := _WEEKDAYS.search(text):
        note("visits_per_week", 5, m)
    if m := _HOURS_PER_VISIT.search(text):
        hours = _number(m.group(1) or m.group(3) or m.group(5))
        if hours and (m.group(2) or m.group(4)):
            hours += 0.5
        if hours and 0 < hours <= 24:
            note("hours_per_visit", hours if hours % 1 else int(hours), m)
    if m := _HOURS_PER_WEEK.search(text):
        hours = _number(m.group(1) or m.group(2))
        if hours and 0 < hours <= 84:
            note("hours_per_week", int(hours), m)
    elif "visits_per_week" in implied and "hours_per_visit" in implied:
        total = implied["visits_per_week"] * implied["hours_per_visit"]
        if total <= 84:
            note("hours_per_week", int(round(total)), f"{evidence['visits_per_week']} × {evidence['hours_per_visit']}")
    for shift, pattern in _SHIFTS:
        if m := pattern.search(text):
            note("shift", shift, m)
            break
    if m := _CLOCK.search(text):
        start_hour, end_hour = _number(m.group(2)), _number(m.group(5))
        if start_hour is not None and end_hour is not None and start_hour <= 24 and end_hour <= 24:
            note(
                "hours",
                f"{_clock(m.group(1), int(start_hour), m.group(3))}-"
                f"{_clock(m.group(4) or m.group(1), int(end_hour), m.group(6))}",
                m,
            )
    elif "shift" in implied:
        note("hours", _SHIFT_HOURS[implied["shift"]], evidence["shift"])
    # Explicit dates first: "预产期是3月15日，先生下个月出差" is due on 15 March.
    due, after, before = None, "", ""
    if m := _DUE.search(text):
        due, after = _due_date(m, today), text[m.end() : m.end() + 4]
    elif m := _BIRTH.search(text):
        due = _due_on(m.group(1), m.group(2), _number(m.group(3)), _number(m.group(4)), today)
        # What follows the day (号 / 日) when one is given, else what follows 月.
        at = m.end(4) + 1 if m.group(4) else m.end(3) + 1
        after = text[at : m.end()]
    elif m := _DUE_EN.search(text):
        month = next(n for name, n in _MONTHS_EN.items() if name.startswith(m.group(1)))
        due = _due_on(None, None, month, _number(m.group(2)), today)
        # Only the words between "due" and the month qualify it ("due in early March").
        before = m.group(0)[: m.start(1) - m.start()]
    elif m := _DUE_RELATIVE.search(text):
        written = next(group for group in m.groups() if group)
        month_index = today.year * 12 + today.month - 1 + (1 if written.startswith(("下", "next")) else 0)
        due = f"{month_index // 12:04d}-{month_index % 12 + 1:02d}"
        # What follows the month: after the match when the birth word comes first, else up to it.
        after = text[m.end() : m.end() + 4] if not m.group(3) else text[m.end(3) : m.end()]
    due = _plausible(due, today)
    if m and due:
        note("due_date", due, m)
        first, last, qualifier = due_window(due, after, before)
        written = m.group(0).strip()
        if qualifier and qualifier not in written:
            written += qualifier
        note("due_date_from", first, written)
        note("due_date_to", last, written)
    if implied:
        implied["evidence"] = evidence
    return implied


def covered(leftover: str, implied: dict) -> bool:
    """Whether a piece of text the skill reader left over was read here instead."""
    rest = normalize(leftover)
    for text in implied.get("evidence", {}).values():
        rest = rest.replace(text, "")
    rest = SkillVocabulary._strip(re.sub(r"[\s，,。.、；;:：的了是在为]+", " ", rest))
    return len(rest) <= 1
