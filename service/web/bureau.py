"""Bureau staff (admin): queues of checks, certificates and trainings to verify, complaints
and appeals to decide. The services record who decided and when; the page shows it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import PathParameter

from service.accounts.guards import Principal, Role, principal_of, requires
from service.employment import services as employment
from service.employment.schemas import AppealDecision, ComplaintDecision, SuspensionCreate, SuspensionLift
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
        grounds, suspensions = await queries.employer_suspensions(principal)
        return page(
            request,
            "bureau/queues.html",
            status_code=status_code,
            pending=await queries.pending_credentials(principal),
            complaints=complaints,
            appeals=appeals,
            decided=await queries.decided_complaints(principal),
            decided_credentials=await queries.decided_credentials(principal),
            suspension_grounds=grounds,
            suspensions=suspensions,
            errors=errors or {},
            values=values or {},
            form_error=form_error,
            target=target,
        )

    async def _decide(
        self,
        request: Request,
        *,
        target: str,
        anchor: str,
        struct: type[msgspec.Struct],
        act: Callable[[Principal, Any], Awaitable[object]],
    ) -> object:
        """Every queue's decision: the form decoded as the API's Struct, the service called,
        and on a refusal the queues again with the message next to that item's field."""
        form = await request.form()
        try:
            data = decode_form(form, struct)
            try:
                await act(principal_of(request), data)
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
        return see_other("/bureau#" + anchor)

    @post("/credentials/{kind:str}/{worker_id:int}/{credential_id:int}")
    async def decide_credential(
        self,
        request: Request,
        kind: Annotated[str, PathParameter(pattern="^(checks|certificates|trainings)$")],
        worker_id: PathId,
        credential_id: PathId,
    ) -> object:
        def act(principal: Principal, data: Decision) -> Awaitable[object]:
            return registry.decide_credential(
                principal, worker_id, kind, credential_id, verified=data.decision == "verified", reason=data.reason
            )

        return await self._decide(request, target=f"{kind}-{credential_id}", anchor=kind, struct=Decision, act=act)

    @post("/complaints/{complaint_id:int}")
    async def decide_complaint(self, request: Request, complaint_id: PathId) -> object:
        def act(principal: Principal, data: ComplaintDecision) -> Awaitable[object]:
            return employment.decide_complaint(
                principal, complaint_id, substantiated=data.outcome == "substantiated", reason=data.reason
            )

        return await self._decide(
            request, target=f"complaint-{complaint_id}", anchor="complaints", struct=ComplaintDecision, act=act
        )

    @post("/appeals/{complaint_id:int}")
    async def decide_appeal(self, request: Request, complaint_id: PathId) -> object:
        def act(principal: Principal, data: AppealDecision) -> Awaitable[object]:
            return employment.decide_appeal(
                principal, complaint_id, upheld=data.outcome == "upheld", reason=data.reason
            )

        return await self._decide(
            request, target=f"appeal-{complaint_id}", anchor="appeals", struct=AppealDecision, act=act
        )

    @post("/complaints/{complaint_id:int}/suspend-employer")
    async def suspend_employer(self, request: Request, complaint_id: PathId) -> object:
        def act(principal: Principal, data: SuspensionCreate) -> Awaitable[object]:
            return employment.suspend_employer(principal, complaint_id, reason=data.reason)

        return await self._decide(
            request, target=f"suspend-{complaint_id}", anchor="suspensions", struct=SuspensionCreate, act=act
        )

    @post("/suspensions/{suspension_id:int}/lift")
    async def lift_suspension(self, request: Request, suspension_id: PathId) -> object:
        def act(principal: Principal, data: SuspensionLift) -> Awaitable[object]:
            return employment.lift_suspension(principal, suspension_id, reason=data.reason)

        return await self._decide(
            request, target=f"lift-{suspension_id}", anchor="suspensions", struct=SuspensionLift, act=act
        )
