"""People and records for tests, created through the public API (admins through the service)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from service.accounts.services import create_admin
from service.accounts.sms import LogSmsSender, sender_of
from service.accounts.throttle import counter_of
from service.registry.domain import id_check_digit, today_local

DATA_TABLES = [
    "app_user",
    "agency",
    "api_key",
    "worker",
    "consent_event",
    "training",
    "certificate",
    "worker_check",
    "job_request",
    "offer",
    "placement",
    "review",
    "complaint",
    "employer_suspension",
    "integrity_rating",
    "integrity_history",
    "event",
    "webhook_subscription",
    "webhook_delivery",
    "idempotency_record",
    "worker_lookup",
    "phone_code",
    "training_session",
    "training_roster",
    "training_roster_entry",
    "evaluator_registration",
    "subsidy_rule",
    "subsidy_claim",
    "subsidy_claim_event",
    "bureau_target",
    "programme_budget",
    "integrity_flag",
    "integrity_check_run",
    "personal_data_read",
    "index_checkpoint",
    "index_checkpoint_chunk",
]
# Reference rows tests may change, put back before each test.
RESET_STATEMENTS = [
    "DELETE FROM programme WHERE code NOT IN ('nanyue_jiazheng', 'yuecai_shifu', 'guangdong_jigong', 'other')",
    # (TRUNCATE app_user CASCADE empties it: it names who last changed it.)
    "INSERT INTO training_verification_rule (id) VALUES (1) ON CONFLICT (id) DO UPDATE "
    "SET auto_verify = false, min_attendance_ratio = 1, require_roster = true, updated_by = NULL",
]
ALL_OCCUPATIONS = ["4-10-01-06", "4-10-01-05", "4-10-01-02", "4-10-01-03", "4-14-01-02"]

PASSWORD = "正确的密码-2026年"

_sequence = itertools.count(1)


def id_number(
    born: date = date(1985, 3, 7), *, region: str = "441802", female: bool = True, seq: int | None = None
) -> str:
    """A valid 18-character resident ID number (GB 11643)."""
    n = next(_sequence) if seq is None else seq
    order = (n % 50) * 2 + (0 if female else 1) + 100  # three digits, parity is the gender
    body = f"{region}{born:%Y%m%d}{order:03d}"
    return body + id_check_digit(body)


def phone() -> str:
    return f"139{next(_sequence):08d}"


def credit_code() -> str:
    return f"914418{next(_sequence):04d}MA4U{next(_sequence):04d}"[:18].ljust(18, "0")


def worker_body(**overrides: Any) -> dict[str, Any]:
    born = overrides.pop("birth_date", date(1985, 3, 7))
    female = overrides.get("gender", "female") == "female"
    body = {
        "real_name": "陈秀英",
        "gender": "female",
        "birth_date": born.isoformat(),
        "id_number": id_number(born, female=female),
        "phone": phone(),
        "languages": ["粤语", "普通话"],
        "district_codes": ["441802", "441803"],
        "location": {"lat": 23.70, "lon": 113.05},
        "categories": ["maternity", "household"],
        "skills": ["maternity_postpartum_care", "cantonese_cooking"],
        "experience_years": 6,
        "wage_min": 7000,
        "wage_max": 9000,
        "wage_unit": "month",
        "live_in": True,
        "available_from": "2026-12-01",
    }
    body.update(overrides)
    return body


def training_body(**overrides: Any) -> dict[str, Any]:
    return {
        "programme": "nanyue_jiazheng",
        "training_type": "employment_skills",
        "course": "母婴护理员（五级）培训",
        "occupation_code": "4-10-01-06",
        "level": 5,
        "hours": 80,
        "started_on": "2026-03-01",
        "finished_on": "2026-03-20",
        "result": "passed",
    } | overrides


@dataclass
class Person:
    id: int
    phone: str
    headers: dict[str, str]


@dataclass
class AgencyActor:
    id: int
    key: str
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"X-API-Key": self.key}


class Actors:
    """Makes the people a test story needs."""

    def __init__(self, client: AsyncTestClient) -> None:
        self.client = client
        self._admin: Person | None = None
        self.last_body: dict[str, Any] = {}

    async def phone_code(self, number: str, purpose: str = "register") -> str:
        """Ask for a code as a person would, and read it where a developer does: the
        development SMS sender (which writes it to the log and keeps the last ones).
        As if the resend wait were over: tests of the resend limits ask by hand."""
        throttle = counter_of(self.client.app)
        for key in (f"codes:minute:{number}:{purpose}", f"codes:hour:{number}"):
            self.client.blocking_portal.call(throttle.forget, key)
        sent = await self.client.post("/api/v1/phone-codes", json={"phone": number, "purpose": purpose})
        assert sent.status_code == 202, sent.text
        sender = sender_of(self.client.app)
        assert isinstance(sender, LogSmsSender)
        code = sender.last_code(number)
        assert code is not None, f"no code was sent to {number}"
        return code

    async def person(self, role: str, *, display_name: str = "测试用户", password: str = PASSWORD) -> Person:
        number = phone()
        created = await self.client.post(
            "/api/v1/accounts",
            json={
                "role": role,
                "phone": number,
                "password": password,
                "display_name": display_name,
                "phone_code": await self.phone_code(number),
            },
        )
        assert created.status_code == 201, created.text
        return Person(id=created.json()["id"], phone=number, headers=await self.login(number, password))

    async def login(self, number: str, password: str) -> dict[str, str]:
        token = await self.client.post("/api/v1/auth/token", json={"phone": number, "password": password})
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    async def admin(self) -> Person:
        if self._admin is None:
            number, password = phone(), "管理员的密码-2026-粤"
            row = self.client.blocking_portal.call(lambda: create_admin(phone=number, password=password))
            self._admin = Person(id=row["id"], phone=number, headers=await self.login(number, password))
        return self._admin

    async def employer(self) -> Person:
        return await self.person("employer", display_name="林女士")

    async def worker_account(self) -> Person:
        return await self.person("worker", display_name="陈阿姨")

    async def agency(
        self, kind: str = "housekeeping", *, name: str | None = None, registered: bool | list[str] = True
    ) -> AgencyActor:
        admin = await self.admin()
        created = await self.client.post(
            "/api/v1/agencies",
            headers=admin.headers,
            json={
                "name": name
                or {
                    "housekeeping": "清远市好帮手家政服务有限公司",
                    "training": "清远市南粤家政培训学校",
                    "evaluation": "广东省家政职业技能评价中心",
                }[kind],
                "kind": kind,
                "district_code": "441802",
                "credit_code": credit_code(),
            },
        )
        assert created.status_code == 201, created.text
        agency_id = created.json()["id"]
        issued = await self.client.post(f"/api/v1/agencies/{agency_id}/api-keys", headers=admin.headers, json={})
        assert issued.status_code == 201, issued.text
        if kind == "evaluation" and registered:
            registration = await self.client.post(
                "/api/v1/bureau/evaluator-registrations",
                headers=admin.headers,
                json={
                    "agency_id": agency_id,
                    "registration_no": f"Y{next(_sequence):08d}",
                    "valid_from": "2020-01-01",
                    "valid_until": "2030-12-31",
                    "occupation_codes": registered if isinstance(registered, list) else ALL_OCCUPATIONS,
                },
            )
            assert registration.status_code == 201, registration.text
        return AgencyActor(id=agency_id, key=issued.json()["key"])

    async def verified_training(self, trainer: AgencyActor, worker_id: int, id_number: str, **overrides: Any) -> dict:
        """A training with its evidence (a session of its full hours, the roster) verified by the bureau."""
        body = training_body(id_number=id_number, **overrides)
        created = await self.client.post(f"/api/v1/workers/{worker_id}/trainings", headers=trainer.headers, json=body)
        assert created.status_code == 201, created.text
        training = created.json()
        await self.training_evidence(trainer, worker_id, id_number, training)
        admin = await self.admin()
        decided = await self.client.post(
            f"/api/v1/workers/{worker_id}/trainings/{training['id']}/decision",
            headers=admin.headers,
            json={"decision": "verified"},
        )
        assert decided.status_code == 200, decided.text
        return decided.json()

    async def training_evidence(self, trainer: AgencyActor, worker_id: int, id_number: str, training: dict) -> None:
        day = date.fromisoformat(training["started_on"])
        sessions = await self.client.post(
            f"/api/v1/workers/{worker_id}/trainings/{training['id']}/sessions",
            headers=trainer.headers,
            json={
                "id_number": id_number,
                "sessions": [
                    {"on_date": (day + timedelta(days=i)).isoformat(), "starts_at": "08:00", "ends_at": "18:00"}
                    for i in range(-(-training["hours"] // 10))
                ],
            },
        )
        assert sessions.status_code == 201, sessions.text
        roster = await self.client.post(
            "/api/v1/bureau/training-rosters",
            headers=trainer.headers,
            json={"course": training["course"], "started_on": training["started_on"], "id_numbers": [id_number]},
        )
        assert roster.status_code == 201, roster.text

    async def registered_worker(self, **overrides: Any) -> tuple[Person, dict]:
        """A worker who registered herself; returns her account and record."""
        person = await self.worker_account()
        self.last_body = worker_body(phone=person.phone, **overrides)
        created = await self.client.post("/api/v1/workers", headers=person.headers, json=self.last_body)
        assert created.status_code == 201, created.text
        return person, created.json()


# Job requests, matches and offers ----------------------------------------------------

START = today_local() + timedelta(days=10)


def request_body(**overrides):
    return {
        "category": "maternity",
        "skills": ["maternity_postpartum_care", "lactation_support"],
        "district_code": "441802",
        "start_date": START.isoformat(),
        "end_date": (START + timedelta(days=26)).isoformat(),
        "live_in": False,
        "budget_min": 7000,
        "budget_max": 9000,
        "budget_unit": "month",
        "languages": ["粤语"],
    } | overrides


class Registry:
    """Builds eligible workers through the API, as her agency, the bureau and institutions would."""

    def __init__(self, client, actors):
        self.client, self.actors = client, actors

    async def setup(self):
        self.admin = await self.actors.admin()
        self.evaluator = await self.actors.agency("evaluation")
        self.trainer = await self.actors.agency("training")
        self._cert = 0
        self.id_numbers = {}
        self.people = {}
        return self

    async def certificate(self, worker_id, occupation_code, level, *, work_type=None):
        """A verified skill-level certificate pushed by the evaluation institution."""
        self._cert += 1
        issued = await self.client.post(
            f"/api/v1/workers/{worker_id}/certificates",
            headers=self.evaluator.headers,
            json={
                "id_number": self.id_numbers[worker_id],
                "occupation_code": occupation_code,
                "work_type": work_type,
                "level": level,
                "certificate_no": f"S44180{self._cert:08d}",
                "issued_on": (today_local() - timedelta(days=30)).isoformat(),
            },
        )
        assert issued.status_code == 201, issued.text
        return issued.json()

    async def worker(
        self, *, certificate_level=None, certificates=(), trained_on=None, health="maternity", consent=True, **profile
    ):
        """`certificates`: (occupation code, 工种 or None, level) of further certificates."""
        person, record = await self.actors.registered_worker(**profile)
        worker_id = record["id"]
        self.id_numbers[worker_id] = id_number = self.actors.last_body["id_number"]
        self.people[worker_id] = person
        if consent:
            assert (
                await self.client.post(f"/api/v1/workers/{worker_id}/consent", headers=person.headers)
            ).status_code == 200
        if health:
            checked = await self.client.post(
                f"/api/v1/workers/{worker_id}/checks",
                headers=self.admin.headers,
                json={"kind": "health", "tier": health, "result": "passed", "checked_on": today_local().isoformat()},
            )
            assert checked.status_code == 201, checked.text
        if certificate_level:
            await self.certificate(worker_id, "4-10-01-06", certificate_level, work_type="母婴护理员")
        for occupation_code, work_type, level in certificates:
            await self.certificate(worker_id, occupation_code, level, work_type=work_type)
        if trained_on:
            await self.actors.verified_training(
                self.trainer,
                worker_id,
                id_number,
                course="母婴护理员培训",
                started_on=(trained_on - timedelta(days=20)).isoformat(),
                finished_on=trained_on.isoformat(),
            )
        return person, record


async def post_request(client, employer, **overrides):
    response = await client.post("/api/v1/job-requests", headers=employer.headers, json=request_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def matches(client, employer, request_id, **params):
    response = await client.get(f"/api/v1/job-requests/{request_id}/matches", headers=employer.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def offer(client, employer, request_id, worker_id, **extra):
    response = await client.post(
        f"/api/v1/job-requests/{request_id}/offers", headers=employer.headers, json={"worker_id": worker_id, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def bound_worker(client, actors, registry, agency):
    """A worker registered by `agency`, claimed by her and bound, consented and eligible."""
    person = await actors.worker_account()
    body = worker_body(phone=person.phone)
    record = (await client.post("/api/v1/workers", headers=agency.headers, json=body)).json()
    await client.post(
        "/api/v1/workers/claim",
        headers=person.headers,
        json={"id_number": body["id_number"], "phone_code": await actors.phone_code(person.phone, "claim")},
    )
    await client.post(f"/api/v1/workers/{record['id']}/agency-binding/confirm", headers=person.headers)
    await client.post(f"/api/v1/workers/{record['id']}/consent", headers=person.headers)
    await client.post(
        f"/api/v1/workers/{record['id']}/checks",
        headers=registry.admin.headers,
        json={"kind": "health", "tier": "maternity", "result": "passed", "checked_on": today_local().isoformat()},
    )
    return person, record
