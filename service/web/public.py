"""The public service certificate (居家上门服务证): one page per worker, reached by a code or
the QR code printed with it. It shows a masked name, verified credentials with their
validity, the star level and the issuing agency, nothing more; a worker who is blacklisted,
suspended, paused or has withdrawn consent is shown as such, without credentials.

The code is `<worker id>-<8 characters of an HMAC of the id>`: printed once, it cannot be
guessed for another worker, and it needs no table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io

import segno
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery

from service.accounts.tables import Agency
from service.errors import NotFound
from service.privacy import surname
from service.registry import services as registry
from service.registry.counting import counts
from service.registry.domain import health_tier_name, today_local
from service.registry.tables import Certificate, Training, Worker
from service.settings import Settings
from service.web.common import page

ISSUING_AUTHORITY = "清远市人力资源和社会保障局 · 南粤家政服务平台"


def certificate_code(settings: Settings, worker_id: int) -> str:
    mac = hmac.new(settings.secret_key.encode(), f"service-certificate:{worker_id}".encode(), hashlib.sha256).digest()
    return f"{worker_id}-{base64.b32encode(mac).decode()[:8]}"


def worker_id_of(settings: Settings, code: str) -> int | None:
    code = code.strip().upper()
    head, _, _ = code.partition("-")
    if not head.isdigit() or len(head) > 10 or int(head) < 1 or int(head) > 2**31 - 1:
        return None
    return int(head) if hmac.compare_digest(certificate_code(settings, int(head)), code) else None


def masked_name(real_name: str) -> str:
    family = surname(real_name)
    rest = real_name[len(family) :]
    if len(rest) <= 1:
        return family + "*"
    return family + "*" * (len(rest) - 1) + rest[-1]


async def certificate_facts(worker_id: int) -> dict:
    worker = await Worker.select().where(Worker.id == worker_id).first()
    if worker is None:
        raise NotFound("查无此证 (no such certificate)")
    today = today_local()
    if worker["blacklisted_until"] is not None and worker["blacklisted_until"] > today:
        state = "revoked"
    elif worker["status"] != "active" or worker["consented_at"] is None:
        state = "suspended"
    else:
        state = "valid"
    facts: dict = {"state": state, "name": masked_name(worker["real_name"]), "worker_id": worker_id}
    if state != "valid":
        return facts
    certificates = await Certificate.select(
        Certificate.occupation_name,
        Certificate.work_type,
        Certificate.level,
        Certificate.issued_on,
        Certificate.issuer.name,
    ).where((Certificate.worker == worker_id) & counts(Certificate))
    trainings = await Training.select(Training.course, Training.finished_on, Training.institution.name).where(
        (Training.worker == worker_id) & counts(Training)
    )
    summary = await registry.credential_summary(worker_id)
    health = summary["health"]
    agency = None
    if worker["agency"] is not None and worker["agency_confirmed_at"] is not None:
        agency = await Agency.select(Agency.name).where(Agency.id == worker["agency"]).first()
    facts.update(
        gender=worker["gender"],
        stars=worker["integrity_stars"],
        certificates=certificates,
        trainings=trainings,
        health=None
        if health is None
        else {"tier": health_tier_name(health["tier"]), "valid_until": health["valid_until"]},
        background=summary["background_check_passed"],
        agency=agency["name"] if agency else None,
        authority=ISSUING_AUTHORITY,
        checked_on=today,
    )
    return facts


def qr_svg(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title="居家上门服务证二维码"
    )
    return out.getvalue()


class PublicPages(Controller):
    path = "/c"
    opt = {"public": True}

    @get("/")
    async def lookup(self, request: Request, code: FromQuery[str | None] = None) -> object:
        if code:
            settings = request.app.state.settings
            if worker_id_of(settings, code[:24]) is not None:
                from service.web.common import see_other

                return see_other(f"/c/{code.strip().upper()}")
            return page(
                request,
                "public/lookup.html",
                status_code=404,
                values={"code": code[:24]},
                errors={"code": "查无此证，请核对查验码 (no certificate with this code)"},
            )
        return page(request, "public/lookup.html", values={}, errors={})

    @get("/{code:str}")
    async def certificate(self, request: Request, code: FromPath[str]) -> object:
        worker_id = worker_id_of(request.app.state.settings, code[:24])
        if worker_id is None:
            raise NotFound("查无此证 (no such certificate)")
        facts = await certificate_facts(worker_id)
        return page(request, "public/certificate.html", f=facts, code=code.upper())

    @get("/{code:str}/qr.svg")
    async def qr(self, request: Request, code: FromPath[str]) -> Response:
        settings = request.app.state.settings
        if worker_id_of(settings, code[:24]) is None:
            raise NotFound("查无此证 (no such certificate)")
        url = f"{request.base_url}c/{code.upper()}"
        return Response(qr_svg(url), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=3600"})
