"""The worker: her record and availability, consent, agency binding, credentials, rating,
offers, reviews of employers, appeals."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, get, post

from service.accounts.guards import Role, principal_of, requires
from service.accounts.services import CodePurpose, use_own_phone_code
from service.accounts.tables import User
from service.employment import services as employment
from service.employment.schemas import AppealCreate, ComplaintCreate, PlacementResign
from service.errors import AppError, NotFound
from service.matching import services as matching
from service.matching.controllers import present_open_request
from service.privacy.audit import SensitiveField, record_reads
from service.registry import services as registry
from service.registry.controllers import present_worker
from service.registry.domain import today_local
from service.registry.schemas import WorkerClaim, WorkerCreate, WorkerUpdate
from service.schemas import PathId
from service.web import queries
from service.web.common import COMPLAINT_ABOUT_EMPLOYER, COMPLAINT_LABELS, RESIGN_LABELS, form_values, page, see_other
from service.web.forms import FormErrors, app_error_fields, convert, decode_form, form_to_dict
from service.web.household import districts_by_city
from service.web.public import certificate_code
from service.web.reviews import submit_review

EDITABLE = (
    "real_name",
    "phone",
    "languages",
    "district_codes",
    "categories",
    "skills",
    "experience_years",
    "wage_min",
    "wage_max",
    "wage_unit",
    "live_in",
    "available_from",
)


def _identity_attempt(request: Request):
    """The API's daily limit on a worker account's tries on ID numbers, for the pages too."""
    return registry.identity_attempt(
        principal_of(request),
        store=request.app.stores.get("identity_attempts"),
        limit=request.app.state.settings.identity_attempts_per_day,
    )


async def _mine(request: Request) -> dict | None:
    try:
        return await registry.my_worker(principal_of(request))
    except NotFound:
        return None


async def _my_phone(request: Request) -> str:
    row = await User.select(User.phone).where(User.id == principal_of(request).user_id).first()
    return row["phone"] if row else ""


def skills_by_category(taxonomy) -> dict[str, list[tuple[str, str]]]:
    grouped: dict[str, list[tuple[str, str]]] = {}
    for code, s in taxonomy.skills.items():
        grouped.setdefault(s["category"], []).append((code, s["name_zh"]))
    return grouped


def _values_of(worker: dict) -> dict:
    values = {k: worker[k] for k in EDITABLE}
    values["live_in"] = "on" if worker["live_in"] else ""
    values["available_from"] = worker["available_from"].isoformat() if worker["available_from"] else ""
    values = {k: (v if isinstance(v, list) else str(v)) for k, v in values.items()}
    values["version"] = str(worker["version"])
    return values


class WorkerPages(Controller):
    path = "/worker"
    guards = [requires(Role.WORKER)]

    @get("/")
    async def dashboard(self, request: Request) -> object:
        return await self._dashboard(request)

    async def _dashboard(
        self,
        request: Request,
        *,
        status_code: int = 200,
        errors: dict | None = None,
        values: dict | None = None,
        form_error: str = "",
    ) -> object:
        principal = principal_of(request)
        worker = await _mine(request)
        if worker is None:
            return page(request, "worker/start.html", values={}, errors={}, my_phone=await _my_phone(request))
        wid = worker["id"]
        rating, _ = await employment.read_integrity(principal, wid)
        offers = await employment.list_my_offers(principal)
        return page(
            request,
            "worker/dashboard.html",
            w=present_worker(worker, request.app.state.taxonomy),
            visible=registry.is_visible_to_employers(worker),
            rating=rating,
            offers=offers,
            trainings=await registry.list_trainings(principal, wid),
            certificates=await registry.list_certificates(principal, wid),
            checks=await registry.list_checks(principal, wid),
            placements=await queries.my_placements(principal),
            complaints=await queries.complaints_about(wid),
            code=certificate_code(request.app.state.settings, wid),
            errors=errors or {},
            values=values or {},
            form_error=form_error,
            status_code=status_code,
            skill_names={c: s["name_zh"] for c, s in request.app.state.taxonomy.skills.items()},
        )

    @post("/claim")
    async def claim(self, request: Request) -> object:
        form = await request.form()
        try:
            data = decode_form(form, WorkerClaim)
            try:
                async with _identity_attempt(request):
                    # The phone must be hers: a code sent to it, used up even if no record matches.
                    await use_own_phone_code(
                        principal_of(request).own_user_id,
                        purpose=CodePurpose.CLAIM,
                        code=data.phone_code,
                        secret=request.app.state.settings.secret_key,
                    )
                    await registry.claim_worker(principal_of(request), data.id_number, cipher=request.app.state.cipher)
            except AppError as exc:
                if "phone_code" in exc.fields:
                    raise app_error_fields(exc) from None
                # Whatever the reason, the answer is about the number she typed.
                raise FormErrors({"id_number": exc.detail}) from None
        except FormErrors as errors:
            return page(
                request,
                "worker/start.html",
                status_code=422,
                values=form_values(form),
                errors=errors.fields,
                form_error=errors.message,
                my_phone=await _my_phone(request),
            )
        return see_other("/worker")

    @get("/profile")
    async def profile_form(self, request: Request) -> object:
        worker = await _mine(request)
        values = (
            _values_of(worker)
            if worker
            else {"wage_unit": "month", "district_codes": ["441802"], "languages": ["粤语", "普通话"]}
        )
        if worker:
            # The form holds her phone in full, to edit it: a read of it, logged like any other.
            await record_reads(
                principal_of(request),
                worker["id"],
                [SensitiveField.PHONE],
                purpose="本人编辑档案 (editing her own record)",
                route=f"{request.method} {request.url.path}",
            )
        return self._profile(request, worker, values, {})

    def _profile(
        self,
        request: Request,
        worker: dict | None,
        values: dict,
        errors: dict,
        form_error: str = "",
        status_code: int = 200,
    ) -> object:
        taxonomy = request.app.state.taxonomy
        return page(
            request,
            "worker/profile.html",
            status_code=status_code,
            worker=worker,
            values=values,
            errors=errors,
            form_error=form_error,
            districts=districts_by_city(taxonomy),
            skills_by_category=skills_by_category(taxonomy),
        )

    @post("/profile")
    async def save_profile(self, request: Request) -> object:
        form = await request.form()
        principal = principal_of(request)
        state = request.app.state
        worker = await _mine(request)
        values = form_values(form)
        try:
            try:
                if worker is None:
                    data = decode_form(form, WorkerCreate)
                    async with _identity_attempt(request):
                        await registry.create_worker(
                            principal,
                            msgspec.structs.asdict(data) | {"location": None},
                            cipher=state.cipher,
                            taxonomy=state.taxonomy,
                        )
                else:
                    fields = form_to_dict(form, WorkerUpdate, only=set(EDITABLE))
                    for name in ("skills", "languages"):
                        fields.setdefault(name, [])
                    update = convert(fields, WorkerUpdate)
                    changes = {k: v for k, v in msgspec.structs.asdict(update).items() if v is not msgspec.UNSET}
                    version = str(form.get("version") or "")
                    await registry.update_worker(
                        principal,
                        worker["id"],
                        expected_version=int(version) if version.isdigit() else -1,
                        changes=changes,
                        taxonomy=state.taxonomy,
                    )
            except AppError as exc:
                if exc.status_code == 412:
                    raise FormErrors(
                        {}, "资料刚在别处被修改，请刷新后再改 (the record changed meanwhile; reload it)"
                    ) from None
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return self._profile(request, worker, values, errors.fields, errors.message, status_code=422)
        return see_other("/worker")

    @post("/consent")
    async def consent(self, request: Request) -> object:
        form = await request.form()
        worker = await registry.my_worker(principal_of(request))
        await registry.set_consent(
            principal_of(request), worker["id"], granted=form.get("action") == "grant", terms_version="2024-01"
        )
        return see_other("/worker#consent")

    @post("/availability")
    async def availability(self, request: Request) -> object:
        """Pause taking offers, or take them again (a suspension is the bureau's to lift)."""
        form = await request.form()
        principal = principal_of(request)
        worker = await registry.my_worker(principal)
        status = "paused" if form.get("action") == "pause" else "active"
        await registry.update_worker(
            principal,
            worker["id"],
            expected_version=worker["version"],
            changes={"status": status},
            taxonomy=request.app.state.taxonomy,
        )
        return see_other("/worker")

    @post("/binding")
    async def binding(self, request: Request) -> object:
        form = await request.form()
        worker = await registry.my_worker(principal_of(request))
        await registry.answer_binding(principal_of(request), worker["id"], accept=form.get("action") == "confirm")
        return see_other("/worker")

    @get("/requests")
    async def open_requests(self, request: Request) -> object:
        """The open requests she fits (and those she lacks only a credential for), best for her first."""
        state = request.app.state
        found = await matching.open_requests_for_worker(
            principal_of(request), index=state.matcher, limit=50, offset=0, include_near=True
        )
        for item in found["items"]:
            item["request"] = present_open_request(item["request"], state.taxonomy)
        return page(request, "worker/requests.html", found=found)

    @post("/requests/{request_id:int}/interest")
    async def interest(self, request: Request, request_id: PathId) -> object:
        form = await request.form()
        index = request.app.state.matcher
        if form.get("action") == "withdraw":
            await matching.withdraw_interest(principal_of(request), request_id, index=index)
        else:
            await matching.express_interest(principal_of(request), request_id, index=index)
        return see_other(f"/worker/requests#r{request_id}")

    @post("/offers/{offer_id:int}/accept")
    async def accept(self, request: Request, offer_id: PathId) -> object:
        placement = await employment.accept_offer(principal_of(request), offer_id)
        return see_other(f"/worker/placements/{placement['id']}")

    @post("/offers/{offer_id:int}/decline")
    async def decline(self, request: Request, offer_id: PathId) -> object:
        await employment.decline_offer(principal_of(request), offer_id)
        return see_other("/worker#offers")

    @get("/placements/{placement_id:int}")
    async def placement(self, request: Request, placement_id: PathId) -> object:
        return await self._placement(request, placement_id)

    async def _placement(
        self,
        request: Request,
        placement_id: int,
        *,
        status_code: int = 200,
        errors: dict | None = None,
        values: dict | None = None,
        form_error: str = "",
        which: str = "",
    ) -> object:
        row = await employment.get_placement(principal_of(request), placement_id)
        if row["viewer_side"] != "worker":
            raise NotFound("服务记录不存在 (no such placement)")
        return page(
            request,
            "worker/placement.html",
            status_code=status_code,
            p=row,
            which=which,
            today=today_local(),
            notice_days=employment.notice_required_days(await queries.request_of_placement(placement_id), row),
            complaints=await queries.complaints_of_placement(placement_id),
            employer_categories=[(c, COMPLAINT_LABELS[c]) for c in COMPLAINT_ABOUT_EMPLOYER],
            resign_categories=list(RESIGN_LABELS.items()),
            reviews=await queries.reviews_by_side(placement_id),
            errors=errors or {},
            values=values or {},
            form_error=form_error,
        )

    @post("/placements/{placement_id:int}/review")
    async def review(self, request: Request, placement_id: PathId) -> object:
        form = await request.form()
        try:
            await submit_review(request, form, placement_id, employment.WORKER_RATINGS)
        except FormErrors as errors:
            return await self._placement(
                request,
                placement_id,
                status_code=422,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
            )
        return see_other(f"/worker/placements/{placement_id}")

    @post("/placements/{placement_id:int}/resign")
    async def resign(self, request: Request, placement_id: PathId) -> object:
        form = await request.form()
        try:
            data = decode_form(form, PlacementResign)
            try:
                await employment.resign_placement(
                    principal_of(request),
                    placement_id,
                    category=data.category,
                    reason=data.reason,
                    last_day=data.last_day,
                    complaint=msgspec.to_builtins(data.complaint) if data.complaint else None,
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._placement(
                request,
                placement_id,
                status_code=422,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
                which="resign",
            )
        return see_other(f"/worker/placements/{placement_id}")

    @post("/placements/{placement_id:int}/complaint")
    async def complaint(self, request: Request, placement_id: PathId) -> object:
        """She complains about the household: the same flow as the household's, decided by the bureau."""
        form = await request.form()
        try:
            data = decode_form(form, ComplaintCreate)
            try:
                await employment.file_complaint(
                    principal_of(request), placement_id, category=data.category, description=data.description
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._placement(
                request,
                placement_id,
                status_code=422,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
                which="complaint",
            )
        return see_other(f"/worker/placements/{placement_id}#complaints")

    @post("/complaints/{complaint_id:int}/appeal")
    async def appeal(self, request: Request, complaint_id: PathId) -> object:
        form = await request.form()
        try:
            data = decode_form(form, AppealCreate)
            try:
                await employment.appeal(principal_of(request), complaint_id, text=data.text)
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._dashboard(
                request,
                status_code=422,
                form_error=errors.message,
                errors={f"appeal-{complaint_id}.{k}": v for k, v in errors.fields.items()},
                values={"appeal_for": str(complaint_id), **form_values(form)},
            )
        return see_other("/worker#complaints")
