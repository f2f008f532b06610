"""Shared building blocks for the msgspec Structs at the API edge."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Any

import msgspec
from litestar.params import PathParameter

from service.errors import InvalidField
from service.registry.domain import add_years, today_local

# Ids are PostgreSQL `integer`s: anything outside their range is refused up front.
MAX_ID = 2**31 - 1
PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
BodyId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
# One line of text: no control characters (PostgreSQL refuses NUL in text).
LINE = r"^[^\x00-\x1f\x7f]*$"
# Free text: line breaks and tabs allowed, other control characters not.
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


@dataclass(frozen=True)
class DateWindow:
    """The dates a field accepts: from `earliest` to `latest` whole years after today in
    Guangdong (negative: before), both ends included. The bounds move with the calendar,
    so msgspec cannot check them; `Input.__post_init__` does, for every field carrying one."""

    earliest: int
    latest: int

    def bounds(self, today: date | None = None) -> tuple[date, date]:
        today = today or today_local()
        return add_years(today, self.earliest), add_years(today, self.latest)

    def describe(self) -> str:
        def words(years: int) -> tuple[str, str]:
            if years == 0:
                return "今天", "today"
            n = abs(years)
            return (
                f"{n} 年{'前' if years < 0 else '后'}",
                f"{n} year{'s' * (n != 1)} {'before' if years < 0 else 'after'} today",
            )

        (lo_zh, lo_en), (hi_zh, hi_en) = words(self.earliest), words(self.latest)
        return f"{lo_zh} 至 {hi_zh}（北京时间）({lo_en} to {hi_en}, Asia/Shanghai, both included)"


def dated(what: str, earliest: int, latest: int) -> Any:
    """A date field bounded to a window around today; the description states the window."""
    window = DateWindow(earliest, latest)
    return Annotated[date, msgspec.Meta(description=f"{what}：{window.describe()}"), window]


# The windows, in years around today. Why these:
# - birth: a worker is 16 (the legal minimum age for work) to 75 years old.
# - available_from: up to 5 years back means "available since" (older says nothing more);
#   up to 2 years ahead, the horizon of job requests.
# - job start: from today (a request for the past cannot be filled) to 2 years ahead;
#   job end: up to 5 years ahead (long-term live-in contracts).
# - trainings and certificates: up to 10 years back (the 南粤家政 programme and the current
#   vocational skill level certificates are younger), never in the future.
# - checks: done up to 5 years back (a failed background check blacklists for 3 years;
#   health reports last one year), never in the future; valid until at most 5 years ahead.
BirthDate = dated("出生日期 (birth date)", -75, -16)
AvailableFrom = dated("可上岗日期 (available from)", -5, 2)
JobStart = dated("开始日期 (start date)", 0, 2)
JobEnd = dated("结束日期 (end date)", 0, 5)
CredentialDate = dated("日期 (date)", -10, 0)
CheckDate = dated("检查日期 (date of the check)", -5, 0)
CheckValidUntil = dated("有效期至 (valid until)", -5, 5)
# - an evaluation institution's registration (备案): up to 10 years back and ahead.
# - subsidy rules: set for this year and the next few, and kept for the claims they priced.
RegistrationDate = dated("备案有效期 (registration period)", -10, 10)
RuleDate = dated("规则有效期 (rule validity)", -10, 5)


def _window_of(annotation: Any) -> DateWindow | None:
    """The DateWindow in a field's annotation (also inside `X | None | UnsetType`)."""
    if typing.get_origin(annotation) is Annotated:
        found = [m for m in annotation.__metadata__ if isinstance(m, DateWindow)]
        return found[0] if found else _window_of(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if (window := _window_of(arg)) is not None:
                return window
    return None


@cache
def date_windows(struct: type) -> tuple[tuple[str, str, DateWindow], ...]:
    """(attribute, name in JSON, window) of each windowed date field of a Struct."""
    hints = typing.get_type_hints(struct, include_extras=True)
    out = []
    for field in msgspec.structs.fields(struct):
        window = _window_of(hints[field.name])
        if window is not None:
            out.append((field.name, field.encode_name, window))
    return tuple(out)


def check_date_windows(value: msgspec.Struct, today: date | None = None) -> None:
    """Refuse (422, naming the field) any date outside its field's window."""
    for attribute, name, window in date_windows(type(value)):
        day = getattr(value, attribute)
        if isinstance(day, date):
            earliest, latest = window.bounds(today)
            if not earliest <= day <= latest:
                raise InvalidField(name, f"须在 {earliest} 至 {latest} 之间 (must be between {earliest} and {latest})")


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body: unknown fields are refused, not ignored; dates are
    checked against their windows."""

    def __post_init__(self) -> None:
        check_date_windows(self)


class Output(msgspec.Struct, kw_only=True):
    """Base of every response body."""


Phone = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^1[3-9]\d{9}$", description="中国大陆手机号 (mainland mobile number)", examples=["13800138000"]
    ),
]
Password = Annotated[
    str, msgspec.Meta(min_length=8, max_length=128, pattern=LINE, description="至少 8 位 (at least 8 characters)")
]
DistrictCode = Annotated[
    str, msgspec.Meta(pattern=r"^44\d{4}$", description="GB/T 2260 广东行政区划代码", examples=["441802"])
]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=LINE)]


class Page(Output):
    total: int
    limit: int
    offset: int
