"""A populated registry owned by one set of people, and strangers of every role.

Every kind of object exists once, owned by the "owners"; the strangers (an employer, a
worker with her own record, and an agency of each kind, with full keys) have nothing to
do with any of it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from litestar import Litestar

from service.accounts.guards import AGENCY_ROLES, Role
from service.registry.domain import today_local
from tests.factories import Actors, id_number, request_body, worker_body

MISSING = 999_999
PARAM = re.compile(r"\{(\w+):int\}")


@dataclass
class Route:
    method: str
    path: str
    operation_id: str
    roles: frozenset | None  # None: no role guard (public or any caller)
    scope: str | None
    public: bool

    def url(self, ids: dict[str, int]) -> str:
        return PARAM.sub(lambda m: str(ids[m.group(1)]), self.path)

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)


def api_routes(app: Litestar) -> list[Route]:
    """Every API operation with the roles and the scope its guards declare."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            path = route.path
            if not path.startswith("/api/"):
                continue
            roles, scope = None, None
            for wrapped in handler.resolve_guards():
                guard = getattr(wrapped, "func", wrapped)  # Litestar wraps guards in AsyncCallable
                if hasattr(guard, "roles"):
                    roles = guard.roles if roles is None else roles & guard.roles
                    scope = guard.scope or scope
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append(
                    Route(
                        method,
                        path,
                        handler.operation_id if isinstance(handler.operation_id, str) else "",
                        roles,
                        scope,
                        bool(handler.opt.get("public")),
                    )
                )
    return found


# A valid body for every operation that takes one, so that a request gets past validation.
def bodies(world: World) -> dict[str, dict]:
    today = today_local()
    return {
        "createWorker": worker_body(),
        "updateWorker": {"experience_years": 7},
        "claimWorker": {"id_number": world.id_number, "phone_code": "000000"},
        "lookupWorker": {"id_number": world.id_number},
        "grantConsent": {},
        # Pushed by someone who does not know her ID number: institutions that do may write.
        "createTraining": {
            "id_number": id_number(),
            "programme": "nanyue_jiazheng",
            "training_type": "employment_skills",
            "course": "母婴护理员培训",
            "hours": 80,
            "started_on": (today - timedelta(days=20)).isoformat(),
            "finished_on": today.isoformat(),
            "result": "passed",
        },
        "createCertificate": {
            "id_number": id_number(),
            "occupation_code": "4-10-01-06",
            "work_type": "母婴护理员",
            "level": 4,
            "certificate_no": "S4418099999999",
            "issued_on": (today - timedelta(days=3)).isoformat(),
        },
        "createCheck": {"kind": "health", "tier": "maternity", "result": "passed", "checked_on": today.isoformat()},
        "decideTraining": {"decision": "verified", "reason": "核实"},
        "decideCertificate": {"decision": "verified", "reason": "核实"},
        "decideCheck": {"decision": "verified", "reason": "核实"},
        "createJobRequest": request_body(),
        "updateJobRequest": {"budget_max": 9500},
        "understandJobText": {"skills_text": "煲汤拖地", "household_notes": "住家"},
        "createOffer": {"worker_id": world.ids["worker_id"]},
        "completePlacement": {},
        "terminatePlacement": {"reason": "提前结束", "no_show": False},
        "createReview": {"ratings": {"quality": 5, "communication": 5, "reliability": 5, "honesty": 5}},
        "updateReview": {"comment": "改一改"},
        "createComplaint": {"category": "negligence", "description": "多次迟到且未告知"},
        "resignPlacement": {"category": "personal", "reason": "家中有事"},
        "decideComplaint": {"outcome": "dismissed", "reason": "查无实据"},
        "appealComplaint": {"text": "我没有迟到"},
        "decideAppeal": {"outcome": "upheld", "reason": "申诉成立"},
        "createWebhook": {"url": "http://127.0.0.1:9/hook", "event_types": ["offer.made"]},
        "createApiKey": {"scopes": ["keys:manage"]},
        "addTrainingSessions": {
            "id_number": id_number(),
            "sessions": [
                {"on_date": (today - timedelta(days=30)).isoformat(), "starts_at": "09:00", "ends_at": "12:00"}
            ],
        },
        "uploadTrainingRoster": {
            "course": "母婴护理员培训",
            "started_on": (today - timedelta(days=40)).isoformat(),
            "id_numbers": [id_number()],
        },
        "createSubsidyClaim": {"training_id": world.ids["training_id"]},
        "decideSubsidyClaim": {"status": "approved"},
        "decideIntegrityFlag": {"decision": "dismissed", "reason": "核实无误"},
        "updateEvaluatorRegistration": {"status": "active"},
        "createAgency": {
            "name": "某家政公司",
            "kind": "housekeeping",
            "district_code": "441802",
            "credit_code": "91441802MA4UZZZZ9X",
        },
    }


@dataclass
class World:
    owners: dict = field(default_factory=dict)
    strangers: dict = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    id_number: str = ""


async def build_world(client, actors: Actors) -> World:
    world = World()
    admin = await actors.admin()
    home = await actors.agency("housekeeping", name="清远市好帮手家政服务有限公司")
    trainer = await actors.agency("training")
    evaluator = await actors.agency("evaluation")
    employer = await actors.employer()
    person = await actors.worker_account()
    world.owners = {
        "admin": admin,
        "housekeeping": home,
        "training": trainer,
        "evaluation": evaluator,
        "employer": employer,
        "worker": person,
    }

    async def ok(response, status=(200, 201)):
        assert response.status_code in status, response.text
        return response.json()

    # Her agency registers her; she claims, confirms the binding and consents.
    body = worker_body(phone=person.phone, available_from=None)
    world.id_number = body["id_number"]
    worker = await ok(await client.post("/api/v1/workers", headers=home.headers, json=body))
    await ok(
        await client.post(
            "/api/v1/workers/claim",
            headers=person.headers,
            json={"id_number": body["id_number"], "phone_code": await actors.phone_code(person.phone, "claim")},
        )
    )
    wid = worker["id"]
    await ok(await client.post(f"/api/v1/workers/{wid}/agency-binding/confirm", headers=person.headers))
    await ok(await client.post(f"/api/v1/workers/{wid}/consent", headers=person.headers))
    today = today_local()
    await ok(
        await client.post(
            f"/api/v1/workers/{wid}/checks",
            headers=admin.headers,
            json={"kind": "health", "tier": "maternity", "result": "passed", "checked_on": today.isoformat()},
        )
    )
    check = await ok(
        await client.post(
            f"/api/v1/workers/{wid}/checks",
            headers=home.headers,
            json={"kind": "background", "result": "passed", "checked_on": today.isoformat()},
        )
    )
    training = await actors.verified_training(
        trainer,
        wid,
        body["id_number"],
        course="母婴护理员培训",
        started_on=(today - timedelta(days=40)).isoformat(),
        finished_on=(today - timedelta(days=20)).isoformat(),
    )
    # The bureau's books: a rule prices her training's claim; a budget of one yuan flags it,
    # and the bureau confirms the flag (so the institution concerned may read it).
    rule = await ok(
        await client.post(
            "/api/v1/bureau/subsidy-rules",
            headers=admin.headers,
            json={"name": "通用", "base_amount": 800, "valid_from": (today - timedelta(days=365)).isoformat()},
        )
    )
    await ok(
        await client.put(
            "/api/v1/bureau/budgets",
            headers=admin.headers,
            json={"year": today.year, "programme_code": "nanyue_jiazheng", "amount": 1},
        )
    )
    claim = await ok(
        await client.post(
            "/api/v1/bureau/subsidy-claims", headers=trainer.headers, json={"training_id": training["id"]}
        )
    )
    await ok(await client.post("/api/v1/bureau/integrity-checks", headers=admin.headers))
    flags = await ok(
        await client.get("/api/v1/bureau/integrity-flags", headers=admin.headers, params={"rule": "over_budget"})
    )
    flag = await ok(
        await client.post(
            f"/api/v1/bureau/integrity-flags/{flags['items'][0]['id']}/decision",
            headers=admin.headers,
            json={"decision": "confirmed", "reason": "超预算"},
        )
    )
    registration = (
        await ok(
            await client.get(
                "/api/v1/bureau/evaluator-registrations", headers=admin.headers, params={"agency_id": evaluator.id}
            )
        )
    )[0]
    certificate = await ok(
        await client.post(
            f"/api/v1/workers/{wid}/certificates",
            headers=evaluator.headers,
            json={
                "id_number": body["id_number"],
                "occupation_code": "4-10-01-06",
                "work_type": "母婴护理员",
                "level": 4,
                "certificate_no": "S4418000000001",
                "issued_on": (today - timedelta(days=10)).isoformat(),
            },
        )
    )

    # The household hires her; the placement ends, both review, the household complains.
    job = await ok(
        await client.post(
            "/api/v1/job-requests",
            headers=employer.headers,
            json=request_body(start_date=today.isoformat(), end_date=(today + timedelta(days=26)).isoformat()),
        )
    )
    offer = await ok(
        await client.post(f"/api/v1/job-requests/{job['id']}/offers", headers=employer.headers, json={"worker_id": wid})
    )
    placement = await ok(await client.post(f"/api/v1/offers/{offer['id']}/accept", headers=person.headers))
    pid = placement["id"]
    await ok(await client.post(f"/api/v1/placements/{pid}/complete", headers=employer.headers, json={}))
    review = await ok(
        await client.post(
            f"/api/v1/placements/{pid}/reviews",
            headers=employer.headers,
            json={"ratings": {"quality": 4, "communication": 4, "reliability": 4, "honesty": 4}},
        )
    )
    complaint = await ok(
        await client.post(
            f"/api/v1/placements/{pid}/complaints",
            headers=employer.headers,
            json={"category": "negligence", "description": "多次迟到且未告知"},
        )
    )
    # A second open request with a live offer, for the routes that change them.
    job2 = await ok(
        await client.post(
            "/api/v1/job-requests",
            headers=employer.headers,
            json=request_body(
                start_date=(today + timedelta(days=60)).isoformat(), end_date=(today + timedelta(days=80)).isoformat()
            ),
        )
    )
    offer2 = await ok(
        await client.post(
            f"/api/v1/job-requests/{job2['id']}/offers", headers=employer.headers, json={"worker_id": wid}
        )
    )
    hook = await ok(
        await client.post(
            "/api/v1/webhooks",
            headers=home.headers,
            json={"url": "http://127.0.0.1:9/hook", "event_types": ["offer.made"]},
        )
    )
    keys = (await client.get(f"/api/v1/agencies/{home.id}/api-keys", headers=home.headers)).json()
    # Her complaint about the household, upheld; the bureau suspends the household and lifts
    # it again (the record stays, for the routes that name a suspension).
    about_employer = await ok(
        await client.post(
            f"/api/v1/placements/{pid}/complaints",
            headers=person.headers,
            json={"category": "unsafe_conditions", "description": "要求无防护擦高层外窗"},
        )
    )
    await ok(
        await client.post(
            f"/api/v1/complaints/{about_employer['id']}/decision",
            headers=admin.headers,
            json={"outcome": "substantiated", "reason": "现场照片为证"},
        )
    )
    suspension = await ok(
        await client.post(
            f"/api/v1/complaints/{about_employer['id']}/employer-suspension",
            headers=admin.headers,
            json={"reason": "工作环境不安全"},
        )
    )
    await ok(
        await client.post(
            f"/api/v1/employer-suspensions/{suspension['id']}/lift", headers=admin.headers, json={"reason": "已整改"}
        )
    )
    # She withdraws consent: no employer but hers may see her now.
    await ok(await client.delete(f"/api/v1/workers/{wid}/consent", headers=person.headers))

    world.ids = {
        "worker_id": wid,
        "request_id": job2["id"],
        "offer_id": offer2["id"],
        "placement_id": pid,
        "review_id": review["id"],
        "complaint_id": complaint["id"],
        "subscription_id": hook["id"],
        "agency_id": home.id,
        "key_id": keys[0]["id"],
        "certificate_id": certificate["id"],
        # decision routes name the credential of their own kind; see credential_id_for
        "credential_id": check["id"],
        "_training": training["id"],
        "_certificate": certificate["id"],
        "_check": check["id"],
        "training_id": training["id"],
        "claim_id": claim["id"],
        "flag_id": flag["id"],
        "rule_id": rule["id"],
        "registration_id": registration["id"],
        "suspension_id": suspension["id"],
    }

    # Strangers of every role, with records and keys of their own.
    stranger_worker = await actors.worker_account()
    await ok(
        await client.post(
            "/api/v1/workers", headers=stranger_worker.headers, json=worker_body(phone=stranger_worker.phone)
        )
    )
    world.strangers = {
        "employer": await actors.employer(),
        "worker": stranger_worker,
        Role.HOUSEKEEPING.value: await actors.agency("housekeeping", name="广州市另一家家政服务有限公司"),
        Role.TRAINING.value: await actors.agency("training", name="另一家培训学校"),
        Role.EVALUATION.value: await actors.agency("evaluation", name="另一家评价中心"),
    }
    assert set(world.strangers) == {r.value for r in Role} - {"admin"}
    assert {r.value for r in AGENCY_ROLES} <= set(world.strangers)
    return world


def ids_for(route: Route, ids: dict[str, int]) -> dict[str, int]:
    """The owners' object ids for this route's parameters."""
    own = dict(ids)
    if "/trainings/" in route.path:
        own["credential_id"] = ids["_training"]
    elif "/certificates/" in route.path:
        own["credential_id"] = ids["_certificate"]
    return own
