"""The household (employer): a guided request, ranked matches as cards, offers, placements,
completion, review and complaint."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromQuery

from service.accounts.guards import Role, principal_of, requires
from service.database import jsonb
from service.employment import services as employment
from service.employment.schemas import AppealCreate, ComplaintCreate, OfferCreate, PlacementEnd, PlacementTerminate
from service.errors import AppError, Conflict, NotFound
from service.matching import services as matching
from service.matching.schemas import JobRequestCreate, JobRequestUpdate
from service.registry import services as registry
from service.registry.domain import age_on, today_local
from service.schemas import PathId
from service.taxonomy.rules import CATEGORY_TABLE
from service.web import queries
from service.web.common import COMPLAINT_LABELS, STATUS_LABELS, form_values, page, see_other
from service.web.forms import FormErrors, app_error_fields, convert, decode_form, form_to_dict
from service.web.reviews import submit_review, submit_review_edit

# What each kind of job usually is (from the category table).
CATEGORY_GUIDE = {
    c["code"]: {
        "live_in": c["usually_live_in"],
        "hint": c["hint_zh"],
    }
    for c in CATEGORY_TABLE
}


def districts_by_city(taxonomy) -> list[tuple[str, list[dict]]]:
    grouped: dict[str, list[dict]] = {}
    for d in taxonomy.districts.values():
        if d["code"].endswith("00"):
            continue
        grouped.setdefault(taxonomy.cities.get(d["city_code"], d["city_code"]), []).append(d)
    # 清远 first: the service starts there.
    return sorted(grouped.items(), key=lambda item: (item[0] != "清远市", item[0]))


def _skills_for(taxonomy, category: str) -> list[tuple[str, str]]:
    return [(code, s["name_zh"]) for code, s in taxonomy.skills.items() if s["category"] == category]


def _occupations(taxonomy) -> list[tuple[str, str]]:
    return [(code, o["name_zh"]) for code, o in taxonomy.occupations.items()]


def _work_types(taxonomy) -> list[tuple[str, str]]:
    return [(w["name_zh"], w["name_zh"]) for o in taxonomy.occupations.values() for w in o["work_types"] or []]


async def worker_card(principal, match: dict, taxonomy) -> dict:
    """What a household sees of a matched worker: public facts, verified badges, the rating."""
    worker, _ = await registry.read_worker(principal, match["worker_id"])
    summary = await registry.credential_summary(match["worker_id"])
    rating, _ = await employment.read_integrity(principal, match["worker_id"])
    return {
        **match,
        "age": age_on(worker["birth_date"], today_local()),
        "experience_years": worker["experience_years"],
        "languages": worker["languages"],
        "skills": [taxonomy.skills[c]["name_zh"] for c in worker["skills"] if c in taxonomy.skills],
        "wage": (worker["wage_min"], worker["wage_max"], worker["wage_unit"]),
        "certificates": summary["certificates"],
        "health": summary["health"],
        "background": summary["background_check_passed"],
        "trainings": summary["trainings_completed"],
        "stars": rating["stars"],
        "score_100": rating["score"],
    }


# Categories whose form asks for hours a week (the others are live-in or by the day).
HOURLY_CATEGORIES = ("household", "medical")
# What an emptied field of the edit form means: cleared, not "leave as it was".
_CLEARED: dict[str, Any] = {
    "skills": [],
    "languages": [],
    "skills_text": "",
    "household_notes": "",
    "location": None,
    "radius_km": None,
    "end_date": None,
    "hours_per_week": None,
    "required_certificate": None,
    "due_date_from": None,
    "due_date_to": None,
}
# Fields the form shows for a 月嫂 request only.
MATERNITY_ONLY = ("due_date_from", "due_date_to", "terms")


def request_values(row: dict, taxonomy) -> dict:
    """A stored request as the form's values (strings, as if typed)."""

    def text(value) -> str:
        return "" if value is None else str(value)

    return {
        "category": row["category"],
        "skills": list(row["skills"]),
        "skills_text": row["skills_text"],
        "household_notes": row["household_notes"],
        "district_code": row["district_code"],
        "search_scope": row["search_scope"],
        "location.lat": text(row["lat"]),
        "location.lon": text(row["lon"]),
        "radius_km": text(row["radius_km"]),
        "start_date": text(row["start_date"]),
        "end_date": text(row["end_date"]),
        "hours_per_week": text(row["hours_per_week"]),
        "live_in": "on" if row["live_in"] else "",
        "budget_min": text(row["budget_min"]),
        "budget_max": text(row["budget_max"]),
        "budget_unit": row["budget_unit"],
        "required_certificate.occupation_code": text(row["required_occupation_code"]),
        "required_certificate.min_level": text(row["required_min_level"]),
        "required_certificate.work_type": text(row["required_work_type"]),
        "due_date_from": text(row["due_date_from"]),
        "due_date_to": text(row["due_date_to"]),
        "terms": text(row["terms"]),
        "languages": [taxonomy.language_name(c) for c in row["languages"]],
        "background_check_required": "on" if row["background_check_required"] else "",
        "headcount": text(row["headcount"]),
    }


def request_changes(form, category: str) -> dict:
    """The edit form as the API's JobRequestUpdate: every field the form shows is sent, an
    emptied optional one as cleared, an emptied required one refused next to it."""
    data = form_to_dict(form, JobRequestUpdate)
    submitted = {key.split(".", 1)[0] for key in form.keys()}
    missing = {}
    for name in JobRequestUpdate.__struct_fields__:
        if name in data or (name == "hours_per_week" and category not in HOURLY_CATEGORIES):
            continue
        if name in MATERNITY_ONLY and category != "maternity":
            continue
        if name not in submitted and name not in ("skills", "languages"):
            continue  # not on the form (unticked checkbox lists excepted): left as it is
        if name in _CLEARED:
            data[name] = _CLEARED[name]
        else:
            missing[name] = "必填 (required)"
    if missing:
        raise FormErrors(missing)
    changes = convert(data, JobRequestUpdate)
    return msgspec.to_builtins(changes, builtin_types=(date,))


class HouseholdPages(Controller):
    path = "/household"
    guards = [requires(Role.EMPLOYER)]

    @get("/")
    async def dashboard(self, request: Request) -> object:
        principal = principal_of(request)
        requests = await queries.my_requests(principal)
        for r in requests:
            r["effective_status"] = matching.effective_status(r)
            # A filled request someone left early has places to fill again (few requests are filled).
            r["vacancies"] = 0
            if r["effective_status"] == "filled":
                r["vacancies"] = (await employment.staffing(principal, r["id"]))["vacancies"]
        return page(
            request, "household/dashboard.html", requests=requests, placements=await queries.my_placements(principal)
        )

    @get("/requests/new")
    async def new_request(self, request: Request, category: FromQuery[str | None] = None) -> object:
        if category is None or category not in CATEGORY_GUIDE:
            return page(request, "household/choose_category.html")
        guide = CATEGORY_GUIDE[category]
        start = today_local() + timedelta(days=7)
        values = {
            "category": category,
            "start_date": start.isoformat(),
            "budget_unit": "month",
            "search_scope": "district",
            "headcount": "1",
            "live_in": "on" if guide["live_in"] else "",
            "district_code": "441802",
        }
        if category == "maternity":
            values["budget_unit"] = "term"
            values["terms"] = "1"
        return self._form(request, category, values, {})

    def _form(
        self,
        request: Request,
        category: str,
        values: dict,
        errors: dict,
        form_error: str = "",
        status_code: int = 200,
        editing: dict | None = None,
    ) -> object:
        taxonomy = request.app.state.taxonomy
        return page(
            request,
            "household/request_form.html",
            status_code=status_code,
            editing=editing,
            district_name=taxonomy.district_name(editing["district_code"]) if editing else "",
            category=category,
            guide=CATEGORY_GUIDE[category],
            values=values,
            errors=errors,
            form_error=form_error,
            skills=_skills_for(taxonomy, category),
            occupations=_occupations(taxonomy),
            work_types=_work_types(taxonomy),
            districts=districts_by_city(taxonomy),
        )

    @post("/requests/understand")
    async def understand(self, request: Request) -> object:
        """As she types: which skills the free text was understood as, and what not."""
        form = await request.form()
        text = str(form.get("skills_text") or "")[:500]
        understood = request.app.state.vocabulary.understand(text)
        return page(request, "household/_understood.html", understood=understood.as_json(), text=text)

    @post("/requests")
    async def create_request(self, request: Request) -> object:
        form = await request.form()
        values = form_values(form)
        category = str(form.get("category") or "")
        if category not in CATEGORY_GUIDE:
            return see_other("/household/requests/new")
        state = request.app.state
        try:
            data = decode_form(form, JobRequestCreate)
            try:
                row = await matching.create_request(
                    principal_of(request),
                    msgspec.to_builtins(data, builtin_types=(date,)),
                    taxonomy=state.taxonomy,
                    vocabulary=state.vocabulary,
                )
            except AppError as exc:
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return self._form(request, category, values, errors.fields, errors.message, status_code=422)
        return see_other(f"/household/requests/{row['id']}")

    @get("/requests/{request_id:int}")
    async def show_request(self, request: Request, request_id: PathId) -> object:
        return await self._request_page(request, request_id)

    @get("/requests/{request_id:int}/edit")
    async def edit_request(self, request: Request, request_id: PathId) -> object:
        row = await self._open_request(request, request_id)
        return self._form(request, row["category"], request_values(row, request.app.state.taxonomy), {}, editing=row)

    @post("/requests/{request_id:int}/edit")
    async def update_request(self, request: Request, request_id: PathId) -> object:
        row = await self._open_request(request, request_id)
        form = await request.form()
        state = request.app.state
        try:
            changes = request_changes(form, row["category"])
            try:
                await matching.update_request(
                    principal_of(request), request_id, changes, taxonomy=state.taxonomy, vocabulary=state.vocabulary
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            values = form_values(form) | {"category": row["category"], "district_code": row["district_code"]}
            return self._form(
                request, row["category"], values, errors.fields, errors.message, status_code=422, editing=row
            )
        return see_other(f"/household/requests/{request_id}")

    async def _open_request(self, request: Request, request_id: int) -> dict:
        """Her request, while it can still change (the service checks again when saving)."""
        row = await matching.get_request(principal_of(request), request_id)
        if matching.effective_status(row) != "open":
            raise Conflict(
                f"需求状态为“{STATUS_LABELS.get(matching.effective_status(row))}”，不能再修改 (only open requests change)"
            )
        return row

    async def _request_page(
        self,
        request: Request,
        request_id: int,
        *,
        offer_for: int | None = None,
        errors: dict | None = None,
        values: dict | None = None,
        form_error: str = "",
    ) -> object:
        principal = principal_of(request)
        state = request.app.state
        row = await matching.get_request(principal, request_id)
        status = matching.effective_status(row)
        matches, cards, interested = None, [], []
        if status == "open":
            interested = await matching.list_interests(principal, request_id)
            matches = await matching.find_matches(
                principal, request_id, limit=10, offset=0, index=state.matcher, cache=request.app.stores.get("matches")
            )
            cards = [await worker_card(principal, m, state.taxonomy) for m in matches["items"]]
        offers = await queries.offers_for_request(request_id)
        for o in offers:
            o["effective_status"] = employment.offer_status(o)
        offered = {o["worker"] for o in offers if o["effective_status"] == "offered"}
        return page(
            request,
            "household/request.html",
            req=row,
            status=status,
            matches=matches,
            cards=cards,
            interested=interested,
            offers=offers,
            offered=offered,
            placements=await queries.placements_for_request(request_id),
            staffing=await employment.staffing(principal, request_id),
            skill_names={c: s["name_zh"] for c, s in state.taxonomy.skills.items()},
            district_name=state.taxonomy.district_name(row["district_code"]),
            required_certificate=(matching.required_certificate_view(row, state.taxonomy) or {}).get("description"),
            understood=jsonb(row["understood"]),
            offer_for=offer_for,
            errors=errors or {},
            values=values or {},
            form_error=form_error,
            status_code=422 if offer_for else 200,
        )

    @post("/requests/{request_id:int}/offers")
    async def make_offer(self, request: Request, request_id: PathId) -> object:
        form = await request.form()
        principal = principal_of(request)
        ttl = timedelta(hours=request.app.state.settings.offer_ttl_hours)
        try:
            data = decode_form(form, OfferCreate)
            try:
                await employment.make_offer(
                    principal, request_id, worker_id=data.worker_id, wage=data.wage, message=data.message, ttl=ttl
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            worker = str(form.get("worker_id") or "")
            return await self._request_page(
                request,
                request_id,
                offer_for=int(worker) if worker.isdigit() else -1,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
            )
        return see_other(f"/household/requests/{request_id}#offers")

    @post("/requests/{request_id:int}/cancel")
    async def cancel(self, request: Request, request_id: PathId) -> object:
        await matching.cancel_request(principal_of(request), request_id)
        return see_other(f"/household/requests/{request_id}")

    @post("/requests/{request_id:int}/reopen")
    async def reopen(self, request: Request, request_id: PathId) -> object:
        await employment.reopen_request(principal_of(request), request_id, start_date=None)
        return see_other(f"/household/requests/{request_id}")

    @post("/offers/{offer_id:int}/withdraw")
    async def withdraw(self, request: Request, offer_id: PathId) -> object:
        offer = await employment.withdraw_offer(principal_of(request), offer_id)
        return see_other(f"/household/requests/{offer['request']}#offers")

    @get("/placements/{placement_id:int}")
    async def placement(self, request: Request, placement_id: PathId) -> object:
        return await self._placement_page(request, placement_id)

    async def _placement_page(
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
        principal = principal_of(request)
        row = await employment.get_placement(principal, placement_id, route=f"{request.method} {request.url.path}")
        if row["viewer_side"] != "employer":
            raise NotFound("服务记录不存在 (no such placement)")
        return page(
            request,
            "household/placement.html",
            status_code=status_code,
            p=row,
            reviews=await queries.reviews_by_side(placement_id),
            complaints=await queries.complaints_of_placement(placement_id),
            errors=errors or {},
            values=values or {},
            form_error=form_error,
            which=which,
            today=today_local(),
            now=datetime.now(timezone.utc),
            worker_categories=[(c, COMPLAINT_LABELS[c]) for c in sorted(employment.COMPLAINT_CATEGORIES["worker"])],
        )

    @post("/placements/{placement_id:int}/complete")
    async def complete(self, request: Request, placement_id: PathId) -> object:
        form = await request.form()
        data = decode_form(form, PlacementEnd)
        await employment.end_placement(principal_of(request), placement_id, outcome="completed", reason=data.reason)
        return see_other(f"/household/placements/{placement_id}")

    @post("/placements/{placement_id:int}/terminate")
    async def terminate(self, request: Request, placement_id: PathId) -> object:
        """End early with a reason; "she did not come" records a no-show."""
        form = await request.form()
        try:
            data = decode_form(form, PlacementTerminate)
            try:
                await employment.end_placement(
                    principal_of(request),
                    placement_id,
                    outcome="no_show" if data.no_show else "terminated",
                    reason=data.reason,
                )
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._placement_page(
                request,
                placement_id,
                status_code=422,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
                which="terminate",
            )
        return see_other(f"/household/placements/{placement_id}")

    @post("/placements/{placement_id:int}/review/edit")
    async def edit_review(self, request: Request, placement_id: PathId) -> object:
        form = await request.form()
        try:
            await submit_review_edit(request, form, placement_id, employment.EMPLOYER_RATINGS, side="employer")
        except FormErrors as errors:
            return await self._placement_page(
                request,
                placement_id,
                status_code=422,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
                which="review",
            )
        return see_other(f"/household/placements/{placement_id}")

    @post("/placements/{placement_id:int}/review")
    async def review(self, request: Request, placement_id: PathId) -> object:
        form = await request.form()
        try:
            await submit_review(request, form, placement_id, employment.EMPLOYER_RATINGS)
        except FormErrors as errors:
            return await self._placement_page(
                request,
                placement_id,
                status_code=422,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
                which="review",
            )
        return see_other(f"/household/placements/{placement_id}")

    @post("/placements/{placement_id:int}/complaint")
    async def complaint(self, request: Request, placement_id: PathId) -> object:
        form = await request.form()
        try:
            data = decode_form(form, ComplaintCreate)
            try:
                await employment.file_complaint(
                    principal_of(request), placement_id, category=data.category, description=data.description
                )
            except AppError as exc:
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._placement_page(
                request,
                placement_id,
                status_code=422,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
                which="complaint",
            )
        return see_other(f"/household/placements/{placement_id}")

    @post("/complaints/{complaint_id:int}/appeal")
    async def appeal(self, request: Request, complaint_id: PathId) -> object:
        """The household appeals a complaint about it that the bureau upheld, once."""
        principal = principal_of(request)
        complaint = await employment.get_complaint(principal, complaint_id)
        form = await request.form()
        try:
            data = decode_form(form, AppealCreate)
            try:
                await employment.appeal(principal, complaint_id, text=data.text)
            except AppError as exc:
                if exc.status_code == 404:
                    raise
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._placement_page(
                request,
                complaint["placement"],
                status_code=422,
                errors={f"appeal-{complaint_id}.{k}": v for k, v in errors.fields.items()},
                values=form_values(form),
                form_error=errors.message,
                which=f"appeal-{complaint_id}",
            )
        return see_other(f"/household/placements/{complaint['placement']}")


__all__ = ["HouseholdPages"]
