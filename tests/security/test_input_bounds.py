"""Every date and number a request body carries is bounded to what the domain allows.

The tables walk every input Struct, so a date or number field added later is covered (or
fails here for want of bounds) without anyone remembering to list it.
"""

from __future__ import annotations

import types
import typing
from datetime import date, timedelta

import msgspec
import pytest

import service.app  # noqa: F401 - imports every slice's schemas
from service.errors import InvalidField
from service.registry.domain import today_local
from service.schemas import DateWindow, Input, date_windows
from tests.factories import request_body, worker_body


@pytest.fixture(autouse=True)
def clean_database():
    """These tables decode Structs only: no database to clean."""


def input_structs() -> list[type[Input]]:
    found, todo = [], list(Input.__subclasses__())
    while todo:
        struct = todo.pop()
        found.append(struct)
        todo.extend(struct.__subclasses__())
    return sorted(found, key=lambda s: s.__name__)


# A valid body of each input Struct that has a date or number field (required fields only,
# plus what makes the rest valid). A new such Struct without a sample fails the walk below.
def samples() -> dict[str, dict]:
    """Built per test, so a run that crosses Guangdong midnight still sends today's date."""
    today = today_local().isoformat()
    return {
        "WorkerCreate": {k: v for k, v in worker_body().items() if k != "available_from"},
        "WorkerUpdate": {},
        "Location": {"lat": 23.7, "lon": 113.05},
        "TrainingCreate": {
            "programme": "nanyue_jiazheng",
            "training_type": "employment_skills",
            "course": "母婴护理员培训",
            "hours": 80,
            "started_on": today,
            "result": "in_progress",
        },
        "SessionIn": {"on_date": today, "starts_at": "09:00", "ends_at": "12:00"},
        "RosterCreate": {
            "course": "母婴护理员培训",
            "started_on": today,
            "id_numbers": [worker_body()["id_number"]],
        },
        "VerificationRuleUpdate": {"auto_verify": True},
        "EvaluatorRegistrationCreate": {
            "agency_id": 1,
            "registration_no": "Y0001",
            "valid_from": today,
            "valid_until": today,
            "occupation_codes": ["4-10-01-06"],
        },
        "EvaluatorRegistrationUpdate": {},
        "SubsidyRuleCreate": {"name": "通用", "base_amount": 1000, "valid_from": today},
        "ClaimCreate": {"training_id": 1},
        "PlacementResign": {"category": "personal", "reason": "家中有事"},
        "TargetSet": {"year": 2026, "metric": "trained", "target": 100},
        "BudgetSet": {"year": 2026, "programme_code": "nanyue_jiazheng", "amount": 100000},
        "CertificateCreate": {
            "occupation_code": "4-10-01-06",
            "level": 4,
            "certificate_no": "S4418000001",
            "issued_on": today,
        },
        "CheckCreate": {"kind": "health", "tier": "maternity", "result": "passed", "checked_on": today},
        "JobRequestCreate": request_body(start_date=today, end_date=None),
        "JobRequestUpdate": {},
        "RequiredCertificate": {"occupation_code": "4-10-01-06", "min_level": 4},
        "OfferCreate": {"worker_id": 1},
        "ReviewCreate": {"ratings": {"quality": 5}},
        "ReviewUpdate": {},
        "RequestReopen": {},
    }


def _leaves(annotation, metas=(), wrap=()):
    """(kind, msgspec.Meta objects, containers around it) for each date/int/float inside a field's type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        yield from _leaves(base, metas + tuple(m for m in extra if isinstance(m, msgspec.Meta)), wrap)
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _leaves(arg, metas, wrap)
    elif origin is list:
        yield from _leaves(typing.get_args(annotation)[0], metas, wrap + ("list",))
    elif origin is dict:
        yield from _leaves(typing.get_args(annotation)[1], metas, wrap + ("dict",))
    elif annotation is date:
        yield "date", metas, wrap
    elif annotation in (int, float):
        yield annotation, metas, wrap


def fields_of_kind(kind) -> list[tuple[type, msgspec.structs.FieldInfo, tuple, tuple]]:
    out = []
    for struct in input_structs():
        hints = typing.get_type_hints(struct, include_extras=True)
        for field in msgspec.structs.fields(struct):
            for leaf_kind, metas, wrap in _leaves(hints[field.name]):
                if (leaf_kind == "date") == (kind == "date"):
                    out.append((struct, field, metas, wrap))
    return out


DATE_FIELDS = fields_of_kind("date")
NUMBER_FIELDS = fields_of_kind("number")


def _wrap(value, wrap):
    for container in reversed(wrap):
        value = [value] if container == "list" else {"quality": value}
    return value


def _decode(struct, field, value, wrap=()):
    body = samples()[struct.__name__] | {field.encode_name: _wrap(value, wrap)}
    return msgspec.convert(body, struct, strict=False)


def test_the_walk_finds_the_known_fields():
    """Guards the walk itself: it sees the fields this brief was about."""
    dates = {(s.__name__, f.name) for s, f, _, _ in DATE_FIELDS}
    assert {
        ("WorkerCreate", "birth_date"),
        ("WorkerUpdate", "available_from"),
        ("JobRequestCreate", "start_date"),
        ("CheckCreate", "valid_until"),
        ("TrainingCreate", "finished_on"),
    } <= dates
    # 12, the bureau's sessions, rosters, registrations and subsidy rules, the 预产期 window,
    # a resignation's last day, and a reopened request's replacement start
    assert len(dates) == 25
    numbers = {(s.__name__, f.name) for s, f, _, _ in NUMBER_FIELDS}
    assert {
        ("WorkerCreate", "wage_min"),
        ("Location", "lat"),
        ("ReviewCreate", "ratings"),
        ("OfferCreate", "worker_id"),
        ("JobRequestUpdate", "headcount"),
    } <= numbers


def test_every_struct_with_dates_or_numbers_has_a_sample_and_the_samples_are_valid():
    needing = {s.__name__ for s, *_ in DATE_FIELDS + NUMBER_FIELDS}
    sample_bodies = samples()
    assert needing <= set(sample_bodies), needing - set(sample_bodies)
    structs = {s.__name__: s for s in input_structs()}
    for name, body in sample_bodies.items():
        msgspec.convert(body, structs[name], strict=False)


def test_every_date_field_has_a_window_stated_in_its_description():
    for struct, field, metas, _ in DATE_FIELDS:
        windows = {attribute: window for attribute, _, window in date_windows(struct)}
        assert field.name in windows, f"{struct.__name__}.{field.name} has no DateWindow"
        descriptions = " ".join(m.description or "" for m in metas)
        assert windows[field.name].describe() in descriptions, f"{struct.__name__}.{field.name}"


@pytest.mark.parametrize("edge", ["lower - 1 day", "lower", "upper", "upper + 1 day"])
@pytest.mark.parametrize(
    "struct,field", [(s, f) for s, f, _, _ in DATE_FIELDS], ids=[f"{s.__name__}.{f.name}" for s, f, _, _ in DATE_FIELDS]
)
def test_dates_at_and_beyond_their_window(struct, field, edge):
    window: DateWindow = {a: w for a, _, w in date_windows(struct)}[field.name]
    lower, upper = window.bounds(today_local())
    value = {
        "lower - 1 day": lower - timedelta(days=1),
        "lower": lower,
        "upper": upper,
        "upper + 1 day": upper + timedelta(days=1),
    }[edge]
    if edge in ("lower", "upper"):
        assert getattr(_decode(struct, field, value.isoformat()), field.name) == value
    else:
        with pytest.raises(InvalidField) as refused:
            _decode(struct, field, value.isoformat())
        assert refused.value.status_code == 422
        assert list(refused.value.fields) == [field.encode_name]
        assert str(lower) in refused.value.fields[field.encode_name]


def test_every_number_field_has_explicit_bounds():
    unbounded = [
        f"{s.__name__}.{f.name}"
        for s, f, metas, _ in NUMBER_FIELDS
        if not any(m.ge is not None for m in metas) or not any(m.le is not None for m in metas)
    ]
    assert unbounded == []


@pytest.mark.parametrize("edge", ["ge - step", "ge", "le", "le + step"])
@pytest.mark.parametrize(
    "struct,field,metas,wrap", NUMBER_FIELDS, ids=[f"{s.__name__}.{f.name}" for s, f, _, _ in NUMBER_FIELDS]
)
def test_numbers_at_and_beyond_their_bounds(struct, field, metas, wrap, edge):
    ge = next(m.ge for m in metas if m.ge is not None)
    le = next(m.le for m in metas if m.le is not None)
    step = 1 if isinstance(ge, int) and isinstance(le, int) else 0.001
    value = {"ge - step": ge - step, "ge": ge, "le": le, "le + step": le + step}[edge]
    if edge in ("ge", "le"):
        assert getattr(_decode(struct, field, value, wrap), field.name) == _wrap(value, wrap)
    else:
        with pytest.raises(msgspec.ValidationError) as refused:
            _decode(struct, field, value, wrap)
        assert f"$.{field.encode_name}" in str(refused.value)
