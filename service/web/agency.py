"""Agency staff, signed in with one of the agency's API keys: a housekeeping company's
workers (search, status, expiring health checks), registering one, importing many."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import PathParameter, QueryParameter

from service.accounts.guards import Role, principal_of, requires
from service.errors import AppError, NotFound
from service.registry import services as registry
from service.registry.controllers import present_worker
from service.registry.schemas import CheckCreate, WorkerCreate
from service.schemas import LINE, PathId
from service.web import imports, queries
from service.web.common import form_values, page, see_other
from service.web.forms import FormErrors, app_error_fields, decode_form
from service.web.household import districts_by_city
from service.web.public import certificate_code
from service.web.worker import _skills_by_category

IMPORT_TTL_SECONDS = 30 * 60
IMPORT_AAD = b"nanyue:web-import-preview"
HOUSEKEEPING = requires(Role.HOUSEKEEPING, scope="workers:write")


class AgencyPages(Controller):
    path = "/agency"
    guards = [requires(Role.HOUSEKEEPING, Role.TRAINING, Role.EVALUATION, scope="workers:read")]

    @get("/")
    async def dashboard(
        self,
        request: Request,
        q: Annotated[str | None, QueryParameter(max_length=32, pattern=LINE)] = None,
        status: Annotated[str | None, QueryParameter(pattern=r"^(active|paused|suspended)?$")] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000)] = 0,
    ) -> object:
        principal = principal_of(request)
        if principal.role != Role.HOUSEKEEPING:
            return see_other("/agency/institution")
        rows, total, _ = await registry.list_workers(
            principal, q=q, district_code=None, category=None, status=status or None, limit=50, offset=offset
        )
        return page(
            request,
            "agency/dashboard.html",
            rows=rows,
            total=total,
            q=q or "",
            status=status or "",
            offset=offset,
            expiring=await queries.expiring_health_checks(principal),
            taxonomy=request.app.state.taxonomy,
        )

    @get("/workers/new", guards=[HOUSEKEEPING])
    async def new_worker(self, request: Request) -> object:
        return self._form(
            request, {"wage_unit": "month", "district_codes": ["441802"], "languages": ["粤语", "普通话"]}, {}
        )

    def _form(self, request: Request, values: dict, errors: dict, form_error: str = "", status_code: int = 200):
        taxonomy = request.app.state.taxonomy
        return page(
            request,
            "worker/profile.html",
            status_code=status_code,
            worker=None,
            values=values,
            errors=errors,
            form_error=form_error,
            districts=districts_by_city(taxonomy),
            skills_by_category=_skills_by_category(taxonomy),
            action="/agency/workers",
            for_agency=True,
        )

    @post("/workers", guards=[HOUSEKEEPING])
    async def create_worker(self, request: Request) -> object:
        form = await request.form()
        state = request.app.state
        try:
            data = decode_form(form, WorkerCreate)
            try:
                row = await registry.create_worker(
                    principal_of(request),
                    msgspec.structs.asdict(data) | {"location": None},
                    cipher=state.cipher,
                    taxonomy=state.taxonomy,
                )
            except AppError as exc:
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return self._form(request, form_values(form), errors.fields, errors.message, status_code=422)
        return see_other(f"/agency/workers/{row['id']}")

    @get("/workers/{worker_id:int}", guards=[requires(Role.HOUSEKEEPING, scope="workers:read")])
    async def worker(self, request: Request, worker_id: PathId) -> object:
        return await self._worker(request, worker_id)

    async def _worker(
        self,
        request: Request,
        worker_id: int,
        *,
        status_code: int = 200,
        errors: dict | None = None,
        values: dict | None = None,
        form_error: str = "",
    ) -> object:
        principal = principal_of(request)
        row, _ = await registry.get_managed_worker(principal, worker_id)
        state = request.app.state
        return page(
            request,
            "agency/worker.html",
            status_code=status_code,
            w=present_worker(row, state.taxonomy),
            checks=await registry.list_checks(principal, worker_id),
            certificates=await registry.list_certificates(principal, worker_id),
            trainings=await registry.list_trainings(principal, worker_id),
            code=certificate_code(state.settings, worker_id),
            errors=errors or {},
            values=values or {"kind": "health", "tier": "home", "result": "passed"},
            form_error=form_error,
        )

    @post("/workers/{worker_id:int}/checks", guards=[requires(Role.HOUSEKEEPING, scope="checks:write")])
    async def add_check(self, request: Request, worker_id: PathId) -> object:
        form = await request.form()
        principal = principal_of(request)
        await registry.get_managed_worker(principal, worker_id)
        try:
            data = decode_form(form, CheckCreate)
            try:
                await registry.add_check(principal, worker_id, msgspec.structs.asdict(data))
            except AppError as exc:
                raise app_error_fields(exc) from None
        except FormErrors as errors:
            return await self._worker(
                request,
                worker_id,
                status_code=422,
                errors=errors.fields,
                values=form_values(form),
                form_error=errors.message,
            )
        return see_other(f"/agency/workers/{worker_id}")

    # Import -----------------------------------------------------------------------------

    @get("/import", guards=[HOUSEKEEPING])
    async def import_form(self, request: Request) -> object:
        return page(request, "agency/import.html", errors={}, values={}, preview=None)

    @get("/import/template.csv", guards=[HOUSEKEEPING])
    async def import_template(self) -> Response:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(imports.TEMPLATE_HEADER)
        writer.writerow(
            [
                "陈秀英",
                "女",
                "1985-03-07",
                "441802198503071026",
                "13800138000",
                "清城区、清新区",
                "母婴",
                "母婴护理（月嫂）、新生儿护理",
                "6",
                "7000",
                "9000",
                "月",
                "是",
                "2026-12-01",
                "粤语、普通话",
            ]
        )
        return Response(
            ("\ufeff" + out.getvalue()).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="workers-template.csv"'},
        )

    @post("/import", guards=[HOUSEKEEPING], request_max_body_size=imports.MAX_BYTES + 64 * 1024)
    async def preview(self, request: Request) -> object:
        form = await request.form()
        upload = form.get("file")
        state = request.app.state
        principal = principal_of(request)
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise imports.ImportFileError("请选择 CSV 或 Excel 文件 (choose a CSV or Excel file)")
            rows = imports.read_table(upload.filename, await upload.read())
        except imports.ImportFileError as exc:
            return page(
                request, "agency/import.html", status_code=422, errors={"file": str(exc)}, values={}, preview=None
            )
        results = await imports.check_rows(principal, rows, cipher=state.cipher, taxonomy=state.taxonomy, save=False)
        token = secrets.token_urlsafe(16)
        # The rows hold ID numbers: kept encrypted with the data key, like the registry's.
        preview = msgspec.json.encode({"agency": principal.agency_id, "rows": rows, "filename": upload.filename})
        await request.app.stores.get("web_imports").set(
            token, state.cipher.encrypt(preview.decode(), IMPORT_AAD), expires_in=IMPORT_TTL_SECONDS
        )
        return page(
            request,
            "agency/import.html",
            errors={},
            values={},
            preview=results,
            token=token,
            filename=upload.filename,
            bad=sum(1 for r in results if r["errors"]),
            good=sum(1 for r in results if not r["errors"]),
        )

    @post("/import/{token:str}", guards=[HOUSEKEEPING])
    async def confirm(self, request: Request, token: Annotated[str, PathParameter(max_length=64)]) -> object:
        form = await request.form()
        principal = principal_of(request)
        state = request.app.state
        store = request.app.stores.get("web_imports")
        stored = await store.get(token)
        if stored is None:
            raise NotFound("导入预览已过期，请重新上传 (the preview expired; upload the file again)")
        saved = msgspec.json.decode(state.cipher.decrypt(stored, IMPORT_AAD))
        if saved["agency"] != principal.agency_id:
            raise NotFound("导入预览已过期，请重新上传 (the preview expired; upload the file again)")
        results = await imports.check_rows(
            principal, saved["rows"], cipher=state.cipher, taxonomy=state.taxonomy, save=False
        )
        good = [saved["rows"][i] for i, r in enumerate(results) if not r["errors"]]
        if len(good) != len(results) and form.get("only_good") != "yes":
            return page(
                request,
                "agency/import.html",
                status_code=422,
                errors={},
                values={},
                preview=results,
                token=token,
                filename=saved["filename"],
                bad=len(results) - len(good),
                good=len(good),
                form_error="文件中有错误的行：请选择“只导入没有错误的行”，或改好后重新上传 "
                "(the file has rows with errors)",
            )
        done = await imports.check_rows(principal, good, cipher=state.cipher, taxonomy=state.taxonomy, save=True)
        await store.delete(token)
        if any(r["errors"] for r in done):
            return page(
                request,
                "agency/import.html",
                status_code=409,
                errors={},
                values={},
                preview=done,
                filename=saved["filename"],
                bad=sum(1 for r in done if r["errors"]),
                good=0,
                form_error="保存时发现新的冲突，什么都没有保存，请重新上传 (nothing was saved)",
            )
        return page(request, "agency/import_done.html", saved=done, skipped=len(results) - len(good))
