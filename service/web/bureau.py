"""Bureau staff (admin): queues of checks, certificates and trainings to verify, complaints
and appeals to decide. The services record who decided and when."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import PathParameter

from service.accounts.guards import Role, principal_of, requires
from service.employment import services as employment
from service.employment.schemas import AppealDecision, ComplaintDecision
from service.employment.tables import Complaint
from service.errors import AppError
from service.registry import services as registry
from service.registry.schemas import Decision
from service.schemas import PathId
from service.web import queries
from service.web.common import form_values, page, see_other
from service.web.forms import FormErrors, app_error_fields, decode_form

KINDS = ("checks", "certificates", "trainings")


class BureauPages(Controller):
    path = "/bureau"
    guards = [requires(Role.ADMIN)]

    @get("/")
    async def queues(self, request: Request) -> object:
        return await self._queues(request)

    async def _queues(
        self,
        request: Request,
        *,
        status_code: int = 200,
        errors: dict | None = None,
        values: dict | None = None,
        form_error: str = "",
        target: str = "",
    ) -> object:
        principal = principal_of(request)
        complaints, appeals = await queries.open_complaints(principal)
        decided = (
            await Complaint.select(
                Complaint.id,
                Complaint.category,
                Complaint.status,
                Complaint.decided_at,
                Complaint.decided_by.display_name,
                Complaint.appeal_status,
                Complaint.appeal_decided_at,
                Complaint.appeal_decided_by.display_name,
            )
            .where(Complaint.decided_at.is_not_null())
            .order_by(Complaint.decided_at, ascending=False)
            .limit(20)
        )
        return page(
            request,
            "bureau/queues.html",
            status_code=status_code,
            pending=await queries.pending_credentials(principal),
            complaints=complaints,
            appeals=appeals,
            decided=decided,
            errors=errors or {},
            values=values or {},
            form_error=form_error,
            target=target,
        )

    @post("/credentials/{kind:str}/{worker_id:int}/{credential_id:int}")
    async def decide_credential(
        self,
        request: Request,
        kind: Annotated[str, PathParameter(pattern="^(checks|certificates|trainings)$")],
        worker_id: PathId,
        credential_id: PathId,
    ) -> object:
        form = await request.form()
        target = f"{kind}-{credential_id}"
        try:
            data = decode_form(form, Decision)
            try:
                await registry.decide_credential(
                    principal_of(request),
                    worker_id,
                    kind,
                    credential_id,
                    verified=data.decision == "verified",
                    reason=data.reason,
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._queues(
                request,
                status_code=422,
                errors={f"{target}.{k}": v for k, v in errors.fields.items()},
                values=form_values(form),
                form_error=errors.message,
                target=target,
            )
        return see_other("/bureau#" + kind)

    @post("/complaints/{complaint_id:int}")
    async def decide_complaint(self, request: Request, complaint_id: PathId) -> object:
        form = await request.form()
        target = f"complaint-{complaint_id}"
        try:
            data = decode_form(form, ComplaintDecision)
            try:
                await employment.decide_complaint(
                    principal_of(request),
                    complaint_id,
                    substantiated=data.outcome == "substantiated",
                    reason=data.reason,
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._queues(
                request,
                status_code=422,
                errors={f"{target}.{k}": v for k, v in errors.fields.items()},
                values=form_values(form),
                form_error=errors.message,
                target=target,
            )
        return see_other("/bureau#complaints")

    @post("/appeals/{complaint_id:int}")
    async def decide_appeal(self, request: Request, complaint_id: PathId) -> object:
        form = await request.form()
        target = f"appeal-{complaint_id}"
        try:
            data = decode_form(form, AppealDecision)
            try:
                await employment.decide_appeal(
                    principal_of(request), complaint_id, upheld=data.outcome == "upheld", reason=data.reason
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._queues(
                request,
                status_code=422,
                errors={f"{target}.{k}": v for k, v in errors.fields.items()},
                values=form_values(form),
                form_error=errors.message,
                target=target,
            )
        return see_other("/bureau#appeals")
