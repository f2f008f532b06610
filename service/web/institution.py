"""Training and evaluation institutions, signed in with one of their API keys: their own
training records (with their status), the class rosters they uploaded and a form to upload
one, the certificates they issued (with revocation), and the integrity flags the bureau
confirmed about them. The same services as the API decide what they may see and do."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import QueryParameter

from service.accounts.guards import Role, principal_of, requires
from service.errors import AppError
from service.registry import services as registry
from service.registry import trainings
from service.registry.domain import CERTIFICATE_KIND_NAMES, TRAINING_TYPE_NAMES
from service.registry.schemas import CertificateCreate, RosterCreate, TrainingCreate
from service.registry.tables import Training
from service.reports import flags
from service.schemas import PathId
from service.web import queries
from service.web.common import form_values, page, see_other
from service.web.forms import FormErrors, app_error_fields, convert, decode_form

TRAINING_STATUS = {"pending": "待核验", "verified": "已核验", "rejected": "已驳回", "revoked": "已撤销"}


async def institution_page(
    request: Request,
    *,
    status: str | None = None,
    status_code: int = 200,
    errors: dict | None = None,
    values: dict | None = None,
    form_error: str = "",
    target: str = "",
    notice: str = "",
) -> object:
    principal = principal_of(request)
    context: dict = {
        "status": status or "",
        "training_status": TRAINING_STATUS,
        "errors": errors or {},
        "values": values or {},
        "form_error": form_error,
        "target": target,
        "notice": notice,
        "flags": [],
    }
    programmes = await Training.raw("SELECT code, name_zh FROM programme ORDER BY code")
    occupations = await Training.raw("SELECT code, name_zh FROM occupation ORDER BY code")
    context["programmes"] = [(r["code"], r["name_zh"]) for r in programmes]
    context["occupations"] = [(r["code"], f"{r['name_zh']}（{r['code']}）") for r in occupations]
    context["training_types"] = {str(k): v for k, v in TRAINING_TYPE_NAMES.items()}
    context["certificate_kinds"] = {str(k): v for k, v in CERTIFICATE_KIND_NAMES.items()}
    if principal.role == Role.TRAINING:
        context["trainings"] = await queries.institution_trainings(principal, status)
        context["rosters"] = await queries.institution_rosters(principal)
    else:
        context["certificates"] = await queries.issued_certificates(principal)
    if principal.has_scope("reports:read"):
        # Only confirmed flags about this institution: the service's rule for agencies.
        context["flags"], _ = await flags.list_flags(
            principal, rule=None, status=None, institution_id=None, limit=50, offset=0
        )
    return page(request, "agency/institution.html", status_code=status_code, **context)


class InstitutionPages(Controller):
    path = "/agency/institution"

    @get("/", guards=[requires(Role.TRAINING, Role.EVALUATION, scope="workers:read")])
    async def records(
        self,
        request: Request,
        status: Annotated[str | None, QueryParameter(pattern=r"^(pending|verified|rejected|revoked)?$")] = None,
        roster: Annotated[str | None, QueryParameter(pattern=r"^\d{1,9}-\d{1,9}$")] = None,
    ) -> object:
        notice = ""
        if roster:
            registered, verified = roster.split("-")
            notice = f"花名册已上传：{registered} 名学员已有培训记录，其中 {verified} 条随之核验。"
        return await institution_page(request, status=status or None, notice=notice)

    @post("/rosters", guards=[requires(Role.TRAINING, scope="trainings:write")])
    async def upload_roster(self, request: Request) -> object:
        form = await request.form()
        ids = [line.strip() for line in (form.get("id_numbers") or "").replace(",", "\n").splitlines() if line.strip()]
        try:
            data = convert(
                {"course": form.get("course") or "", "started_on": form.get("started_on") or "", "id_numbers": ids},
                RosterCreate,
            )
            try:
                row = await trainings.upload_roster(
                    principal_of(request),
                    {"course": data.course, "started_on": data.started_on, "id_numbers": data.id_numbers},
                    cipher=request.app.state.cipher,
                )
            except AppError as exc:
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            fields = {("id_numbers" if k.startswith("id_numbers") else k): v for k, v in errors.fields.items()}
            return await institution_page(
                request,
                status_code=422,
                errors={f"roster.{k}": v for k, v in fields.items()},
                values=form_values(form),
                form_error=errors.message,
                target="roster",
            )
        return see_other(f"/agency/institution?roster={row['registered_trainees']}-{row['verified_now']}#rosters")

    @post(
        "/certificates/{worker_id:int}/{certificate_id:int}/revoke",
        guards=[requires(Role.EVALUATION, scope="certificates:write")],
    )
    async def revoke(self, request: Request, worker_id: PathId, certificate_id: PathId) -> object:
        form = await request.form()
        target = f"certificate-{certificate_id}"
        reason = (form.get("reason") or "").strip()
        if not reason:
            return await institution_page(
                request,
                status_code=422,
                errors={f"{target}.reason": "请写明吊销理由 (a reason is required)"},
                values=form_values(form),
                target=target,
            )
        if len(reason) > 500:
            return await institution_page(
                request,
                status_code=422,
                errors={f"{target}.reason": "不能超过 500 字 (at most 500 characters)"},
                values=form_values(form),
                target=target,
            )
        await registry.revoke_certificate(principal_of(request), worker_id, certificate_id, reason=reason)
        return see_other(f"/agency/institution#{target}")

    @post("/trainings", guards=[requires(Role.TRAINING, scope="trainings:write")])
    async def push_training(self, request: Request) -> object:
        """One training record, named like the API does: her record number and her ID number."""
        form = await request.form()
        try:
            worker_id = _record_number(form)
            data = decode_form(form, TrainingCreate)
            try:
                row = await registry.add_training(
                    principal_of(request),
                    worker_id,
                    msgspec.structs.asdict(data),
                    cipher=request.app.state.cipher,
                    taxonomy=request.app.state.taxonomy,
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise FormErrors({"worker_id": "档案编号与身份证号不符 (no such worker)"}) from None
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await _push_failed(request, form, errors, "push")
        return see_other(f"/agency/institution#training-{row['id']}")

    @post("/certificates", guards=[requires(Role.EVALUATION, scope="certificates:write")])
    async def push_certificate(self, request: Request) -> object:
        form = await request.form()
        try:
            worker_id = _record_number(form)
            data = decode_form(form, CertificateCreate)
            try:
                row = await registry.add_certificate(
                    principal_of(request),
                    worker_id,
                    msgspec.structs.asdict(data),
                    taxonomy=request.app.state.taxonomy,
                    cipher=request.app.state.cipher,
                    issuer=request.app.state.issuer,
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise FormErrors({"worker_id": "档案编号与身份证号不符 (no such worker)"}) from None
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await _push_failed(request, form, errors, "push")
        return see_other(f"/agency/institution#certificate-{row['id']}")


def _record_number(form) -> int:
    text = (form.get("worker_id") or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 2_147_483_647:
        raise FormErrors({"worker_id": "请填写家政服务员的档案编号 (the worker's record number)"})
    return int(text)


async def _push_failed(request: Request, form, errors: FormErrors, target: str) -> object:
    return await institution_page(
        request,
        status_code=422,
        errors={f"{target}.{k}": v for k, v in errors.fields.items()},
        values=form_values(form),
        form_error=errors.message,
        target=target,
    )
