from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from service import throttle
from service.accounts.guards import Role, principal_of, requires
from service.accounts.services import CodePurpose, use_own_phone_code
from service.errors import PreconditionRequired, Unauthorized
from service.privacy import mask_phone, public_display_name
from service.registry import evaluators, services, trainings
from service.registry.domain import Category, age_on, health_tier_name, today_local
from service.registry.schemas import (
    CertificateCreate,
    CertificateOut,
    CheckCreate,
    CheckOut,
    ConsentEventOut,
    ConsentGrant,
    Decision,
    EvaluatorRegistrationCreate,
    EvaluatorRegistrationOut,
    EvaluatorRegistrationUpdate,
    ProgrammeCreate,
    ProgrammeOut,
    PublicWorker,
    RosterCreate,
    RosterOut,
    SessionOut,
    SessionsCreate,
    TrainingCreate,
    TrainingOut,
    TrainingPage,
    VerificationRule,
    VerificationRuleUpdate,
    Worker,
    WorkerClaim,
    WorkerCreate,
    WorkerListItem,
    WorkerLookup,
    WorkerLookupOut,
    WorkerPage,
    WorkerRef,
    WorkerUpdate,
)
from service.schemas import LINE, MAX_ID, PathId
from service.taxonomy.services import Taxonomy

ANY_AGENCY = (Role.HOUSEKEEPING, Role.TRAINING, Role.EVALUATION)
# Every role may ask for a worker's record, history and credentials; the services decide
# which worker and what shape, and answer 404 for the rest.
READERS = (Role.WORKER, Role.EMPLOYER, Role.ADMIN, *ANY_AGENCY)
ETAG_DOC = ResponseHeader(
    name="ETag", description="版本标签，PATCH 时放入 If-Match (send back in If-Match)", documentation_only=True
)


def etag(worker: dict) -> str:
    return f'"{worker["id"]}-{worker["version"]}"'


def parse_if_match(header: str | None, worker_id: int) -> int:
    if not header:
        raise PreconditionRequired()
    value = header.strip().removeprefix("W/").strip('"')
    prefix, _, version = value.partition("-")
    if prefix != str(worker_id) or not version.isdigit() or int(version) > MAX_ID:
        return -1  # never matches: answers 412
    return int(version)


def _districts(codes: list[str], taxonomy: Taxonomy) -> list[dict]:
    return [{"code": c, "name_zh": taxonomy.district_name(c)} for c in codes]


def present_worker(row: dict, taxonomy: Taxonomy) -> Worker:
    binding = None
    if row["agency"] is not None:
        binding = "confirmed" if row["agency_confirmed_at"] else "pending"
    return msgspec.convert(
        {
            **row,
            # In full only through GET .../personal-data, which logs the read.
            "phone": mask_phone(row["phone"]),
            "districts": _districts(row["district_codes"], taxonomy),
            "language_names": taxonomy.language_refs(row["languages"]),
            "location": {"lat": row["lat"], "lon": row["lon"]} if row["lat"] is not None else None,
            "agency_id": row["agency"],
            "agency_binding": binding,
            "consent": {"given": row["consented_at"] is not None, "given_at": row["consented_at"]},
        },
        Worker,
        strict=False,
        from_attributes=True,
    )


def present_public(row: dict, summary: dict, taxonomy: Taxonomy) -> PublicWorker:
    health = summary["health"]
    return msgspec.convert(
        {
            **row,
            "display_name": public_display_name(row["real_name"], row["gender"]),
            "age": age_on(row["birth_date"], today_local()),
            "districts": _districts(row["district_codes"], taxonomy),
            "language_names": taxonomy.language_refs(row["languages"]),
            "certificates": summary["certificates"],
            "health_check": None
            if health is None
            else {
                "tier": health["tier"],
                "tier_name": health_tier_name(health["tier"]),
                "valid_until": health["valid_until"],
            },
            "background_check_passed": summary["background_check_passed"],
            "trainings_completed": summary["trainings_completed"],
        },
        PublicWorker,
        strict=False,
    )


def _list_item(row: dict, taxonomy: Taxonomy, score: float | None) -> WorkerListItem:
    binding = None
    if row["agency"] is not None:
        binding = "confirmed" if row["agency_confirmed_at"] else "pending"
    return msgspec.convert(
        {
            **row,
            "districts": _districts(row["district_codes"], taxonomy),
            "agency_binding": binding,
            "consent_given": row["consented_at"] is not None,
            "match_score": score,
        },
        WorkerListItem,
        strict=False,
    )


def _identity_attempt(request: Request):
    """The service's daily limit on a worker account's tries on ID numbers."""
    return services.identity_attempt(
        principal_of(request),
        store=request.app.stores.get("identity_attempts"),
        limit=request.app.state.settings.identity_attempts_per_day,
    )


def _with_etag(row: dict, body: Any, status_code: int = HTTP_200_OK) -> Response:
    return Response(body, status_code=status_code, headers={"ETag": etag(row)})


class WorkerController(Controller):
    path = "/api/v1/workers"
    tags = ["workers"]

    @post(
        "/",
        operation_id="createWorker",
        response_headers=[ETAG_DOC],
        summary="登记家政服务员：本人或家政企业 (register a worker: herself or a housekeeping agency)",
        guards=[requires(Role.WORKER, Role.HOUSEKEEPING, Role.ADMIN, scope="workers:write")],
    )
    async def create_worker(self, request: Request, data: JSONBody[WorkerCreate]) -> Response[Worker]:
        state = request.app.state
        async with _identity_attempt(request):
            row = await services.create_worker(
                principal_of(request),
                msgspec.structs.asdict(data) | {"location": msgspec.to_builtins(data.location)},
                cipher=state.cipher,
                taxonomy=state.taxonomy,
            )
        return _with_etag(row, present_worker(row, state.taxonomy), HTTP_201_CREATED)

    @get(
        "/me",
        operation_id="getMyWorker",
        response_headers=[ETAG_DOC],
        summary="本人档案 (her own worker record)",
        guards=[requires(Role.WORKER)],
    )
    async def me(self, request: Request) -> Response[Worker]:
        row = await services.my_worker(principal_of(request))
        return _with_etag(row, present_worker(row, request.app.state.taxonomy))

    @get(
        "/",
        operation_id="listWorkers",
        summary="查询本机构的家政服务员（管理员可查全部）(search an agency's workers; admins all)",
        guards=[requires(Role.HOUSEKEEPING, Role.TRAINING, Role.EVALUATION, Role.ADMIN, scope="workers:read")],
    )
    async def list_workers(
        self,
        request: Request,
        q: Annotated[
            str | None, QueryParameter(max_length=32, pattern=LINE, description="姓名模糊查询或手机号片段")
        ] = None,
        district_code: Annotated[str | None, QueryParameter(pattern=r"^44\d{4}$")] = None,
        category: Annotated[str | None, QueryParameter(pattern=rf"^({'|'.join(Category)})$")] = None,
        status: Annotated[str | None, QueryParameter(pattern=r"^(active|paused|suspended)$")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000)] = 0,
    ) -> WorkerPage:
        rows, total, scores = await services.list_workers(
            principal_of(request),
            q=q,
            district_code=district_code,
            category=category,
            status=status,
            limit=limit,
            offset=offset,
        )
        taxonomy = request.app.state.taxonomy
        return WorkerPage(
            total=total, limit=limit, offset=offset, items=[_list_item(r, taxonomy, scores.get(r["id"])) for r in rows]
        )

    @post(
        "/claim",
        status_code=HTTP_200_OK,
        operation_id="claimWorker",
        response_headers=[ETAG_DOC],
        summary="认领家政企业代为登记的档案（身份证号与手机号须一致）(claim the record an agency made for her)",
        guards=[requires(Role.WORKER)],
    )
    async def claim(self, request: Request, data: JSONBody[WorkerClaim]) -> Response[Worker]:
        async with _identity_attempt(request):
            # The phone must be hers: a code sent to it, used up even if no record matches.
            user_id = principal_of(request).user_id
            if user_id is None:  # the guard admits worker accounts only
                raise Unauthorized()
            await use_own_phone_code(
                user_id, purpose=CodePurpose.CLAIM, code=data.phone_code, secret=request.app.state.settings.secret_key
            )
            row = await services.claim_worker(principal_of(request), data.id_number, cipher=request.app.state.cipher)
        return _with_etag(row, present_worker(row, request.app.state.taxonomy))

    @post(
        "/lookup",
        status_code=HTTP_200_OK,
        operation_id="lookupWorker",
        summary="按身份证号查找本机构可见的档案；每次查找都有记录 (find a worker the caller may see by ID number; "
        "every lookup is recorded)",
        guards=[requires(*ANY_AGENCY, Role.ADMIN, scope="workers:read")],
    )
    async def lookup(self, request: Request, data: JSONBody[WorkerLookup]) -> WorkerRef:
        principal = principal_of(request)
        store = request.app.stores.get("lookups")
        limit = request.app.state.settings.lookups_per_minute
        await throttle.spend(store, principal.credential, limit=limit, window=60)
        row = await services.lookup_worker(principal, data.id_number, cipher=request.app.state.cipher)
        return WorkerRef(
            id=row["id"],
            display_name=public_display_name(row["real_name"], row["gender"]),
            id_number_masked=row["id_number_masked"],
        )

    @get(
        "/lookups",
        operation_id="listWorkerLookups",
        guards=[requires(Role.ADMIN)],
        summary="身份证号查找记录（管理员）(the log of ID-number lookups; admin)",
    )
    async def lookups(
        self,
        request: Request,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000)] = 0,
    ) -> list[WorkerLookupOut]:
        rows = await services.list_lookups(principal_of(request), limit=limit, offset=offset)
        return [
            WorkerLookupOut(
                id=r["id"],
                at=r["at"],
                user_id=r["user"],
                agency_id=r["agency"],
                api_key_id=r["api_key_id"],
                worker_id=r["worker"],
            )
            for r in rows
        ]

    @get(
        "/{worker_id:int}",
        operation_id="getWorker",
        response_headers=[ETAG_DOC],
        summary="查看档案：本人、所属机构、管理员看全部；雇主看公开信息 (read a worker)",
        guards=[requires(*READERS, scope="workers:read")],
    )
    async def get_worker(self, request: Request, worker_id: PathId) -> Response[Worker | PublicWorker]:
        row, shape = await services.read_worker(principal_of(request), worker_id)
        taxonomy = request.app.state.taxonomy
        if shape == "full":
            return _with_etag(row, present_worker(row, taxonomy))
        summary = await services.credential_summary(worker_id)
        return Response(present_public(row, summary, taxonomy))

    @patch(
        "/{worker_id:int}",
        operation_id="updateWorker",
        response_headers=[ETAG_DOC],
        summary="修改档案，需要 If-Match (update a worker; needs If-Match)",
        guards=[requires(Role.WORKER, Role.HOUSEKEEPING, Role.ADMIN, scope="workers:write")],
    )
    async def update_worker(
        self,
        request: Request,
        worker_id: PathId,
        data: JSONBody[WorkerUpdate],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
    ) -> Response[Worker]:
        principal = principal_of(request)
        expected = parse_if_match(if_match, worker_id) if if_match else None  # 428 after a stranger's 404
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        if "location" in changes:
            changes["location"] = msgspec.to_builtins(changes["location"])
        row = await services.update_worker(
            principal, worker_id, expected_version=expected, changes=changes, taxonomy=request.app.state.taxonomy
        )
        return _with_etag(row, present_worker(row, request.app.state.taxonomy))

    @post(
        "/{worker_id:int}/consent",
        status_code=HTTP_200_OK,
        operation_id="grantConsent",
        summary="本人签署信用信息授权 (she authorises showing her data to employers)",
        guards=[requires(Role.WORKER)],
    )
    async def grant_consent(
        self,
        request: Request,
        worker_id: PathId,
        data: JSONBody[ConsentGrant | None] = None,
    ) -> Worker:
        terms = data.terms_version if data else ConsentGrant().terms_version
        row = await services.set_consent(principal_of(request), worker_id, granted=True, terms_version=terms)
        return present_worker(row, request.app.state.taxonomy)

    @delete(
        "/{worker_id:int}/consent",
        status_code=HTTP_200_OK,
        operation_id="withdrawConsent",
        summary="本人撤回授权，立即退出匹配 (she withdraws consent; she leaves matching at once)",
        guards=[requires(Role.WORKER)],
    )
    async def withdraw_consent(self, request: Request, worker_id: PathId) -> Worker:
        row = await services.set_consent(principal_of(request), worker_id, granted=False)
        return present_worker(row, request.app.state.taxonomy)

    @get(
        "/{worker_id:int}/consent/history",
        operation_id="listConsentEvents",
        summary="授权与撤回记录 (her consent history)",
        guards=[requires(*READERS, scope="workers:read")],
    )
    async def consent_history(self, request: Request, worker_id: PathId) -> list[ConsentEventOut]:
        rows = await services.consent_history(principal_of(request), worker_id)
        return [msgspec.convert(r, ConsentEventOut, strict=False) for r in rows]

    @post(
        "/{worker_id:int}/agency-binding/confirm",
        status_code=HTTP_200_OK,
        operation_id="confirmAgencyBinding",
        summary="本人确认与家政企业绑定 (she confirms the agency binding)",
        guards=[requires(Role.WORKER)],
    )
    async def confirm_binding(self, request: Request, worker_id: PathId) -> Worker:
        row = await services.answer_binding(principal_of(request), worker_id, accept=True)
        return present_worker(row, request.app.state.taxonomy)

    @post(
        "/{worker_id:int}/agency-binding/decline",
        status_code=HTTP_200_OK,
        operation_id="declineAgencyBinding",
        summary="本人拒绝或解除与家政企业绑定 (she declines or ends the agency binding)",
        guards=[requires(Role.WORKER)],
    )
    async def decline_binding(self, request: Request, worker_id: PathId) -> Worker:
        row = await services.answer_binding(principal_of(request), worker_id, accept=False)
        return present_worker(row, request.app.state.taxonomy)


class CredentialController(Controller):
    path = "/api/v1/workers/{worker_id:int}"
    tags = ["credentials"]

    @post(
        "/trainings",
        operation_id="createTraining",
        summary="培训机构登记培训记录 (a training institution records a training)",
        guards=[requires(Role.TRAINING, Role.ADMIN, scope="trainings:write")],
    )
    async def add_training(
        self,
        request: Request,
        worker_id: PathId,
        data: JSONBody[TrainingCreate],
    ) -> TrainingOut:
        row = await services.add_training(
            principal_of(request),
            worker_id,
            msgspec.structs.asdict(data),
            cipher=request.app.state.cipher,
            taxonomy=request.app.state.taxonomy,
        )
        return msgspec.convert(row, TrainingOut, strict=False)

    @post(
        "/trainings/{training_id:int}/sessions",
        operation_id="addTrainingSessions",
        summary="培训机构补录出勤（日期、起止时间）；全部成功或全部不存 (the institution records attended sessions)",
        guards=[requires(Role.TRAINING, Role.ADMIN, scope="trainings:write")],
    )
    async def add_sessions(
        self,
        request: Request,
        worker_id: PathId,
        training_id: PathId,
        data: JSONBody[SessionsCreate],
    ) -> list[SessionOut]:
        rows = await services.add_sessions(
            principal_of(request),
            worker_id,
            training_id,
            {"id_number": data.id_number, "sessions": [msgspec.structs.asdict(x) for x in data.sessions]},
            cipher=request.app.state.cipher,
        )
        return [msgspec.convert(r, SessionOut, strict=False) for r in rows]

    @get(
        "/trainings/{training_id:int}/sessions",
        operation_id="listTrainingSessions",
        summary="出勤记录（本机构、管理员）(attended sessions: the institution, the bureau)",
        guards=[requires(Role.TRAINING, Role.ADMIN, scope="trainings:write")],
    )
    async def list_sessions(self, request: Request, worker_id: PathId, training_id: PathId) -> list[SessionOut]:
        rows = await trainings.list_sessions(principal_of(request), worker_id, training_id)
        return [msgspec.convert(r, SessionOut, strict=False) for r in rows]

    @get(
        "/trainings",
        operation_id="listTrainings",
        summary="培训记录 (training records)",
        guards=[requires(*READERS, scope="workers:read")],
    )
    async def list_trainings(self, request: Request, worker_id: PathId) -> list[TrainingOut]:
        rows = await services.list_trainings(principal_of(request), worker_id)
        return [msgspec.convert(r, TrainingOut, strict=False) for r in rows]

    @post(
        "/certificates",
        operation_id="createCertificate",
        summary="评价机构登记其颁发的职业技能等级证书 (an evaluation institution records a certificate it issued)",
        guards=[requires(Role.EVALUATION, scope="certificates:write")],
    )
    async def add_certificate(
        self,
        request: Request,
        worker_id: PathId,
        data: JSONBody[CertificateCreate],
    ) -> CertificateOut:
        row = await services.add_certificate(
            principal_of(request),
            worker_id,
            msgspec.structs.asdict(data),
            taxonomy=request.app.state.taxonomy,
            cipher=request.app.state.cipher,
            issuer=request.app.state.issuer,
        )
        return msgspec.convert(row, CertificateOut, strict=False)

    @get(
        "/certificates",
        operation_id="listCertificates",
        summary="技能证书 (skill certificates)",
        guards=[requires(*READERS, scope="workers:read")],
    )
    async def list_certificates(self, request: Request, worker_id: PathId) -> list[CertificateOut]:
        rows = await services.list_certificates(principal_of(request), worker_id)
        return [msgspec.convert(r, CertificateOut, strict=False) for r in rows]

    @delete(
        "/certificates/{certificate_id:int}",
        status_code=HTTP_200_OK,
        operation_id="revokeCertificate",
        summary="颁发机构吊销证书，记录保留 (the issuer revokes a certificate; the record stays)",
        guards=[requires(Role.EVALUATION, Role.ADMIN, scope="certificates:write")],
    )
    async def revoke_certificate(
        self,
        request: Request,
        worker_id: PathId,
        certificate_id: PathId,
        reason: Annotated[str, QueryParameter(max_length=500, pattern=LINE)] = "",
    ) -> CertificateOut:
        row = await services.revoke_certificate(principal_of(request), worker_id, certificate_id, reason=reason)
        return msgspec.convert(row, CertificateOut, strict=False)

    @post(
        "/certificates/{certificate_id:int}/issuer-check",
        status_code=HTTP_200_OK,
        operation_id="recheckCertificate",
        guards=[requires(Role.ADMIN)],
        summary="再次向颁发机构核验待定证书 (ask the issuer again about a pending certificate)",
    )
    async def recheck_certificate(self, request: Request, worker_id: PathId, certificate_id: PathId) -> CertificateOut:
        row = await services.recheck_certificate(
            principal_of(request), worker_id, certificate_id, request.app.state.issuer
        )
        return msgspec.convert(row, CertificateOut, strict=False)

    @post(
        "/checks",
        operation_id="createCheck",
        summary="登记体检或背景审查（所属家政企业、管理员）(record a health or background check)",
        guards=[requires(Role.HOUSEKEEPING, Role.ADMIN, scope="checks:write")],
    )
    async def add_check(self, request: Request, worker_id: PathId, data: JSONBody[CheckCreate]) -> CheckOut:
        row = await services.add_check(principal_of(request), worker_id, msgspec.structs.asdict(data))
        return msgspec.convert(row, CheckOut, strict=False)

    @get(
        "/checks",
        operation_id="listChecks",
        summary="体检与背景审查 (health and background checks)",
        guards=[requires(*READERS, scope="workers:read")],
    )
    async def list_checks(
        self,
        request: Request,
        worker_id: PathId,
        purpose: Annotated[
            str,
            QueryParameter(
                max_length=200, pattern=LINE, description="读取目的，记入审计日志 (why they are read; logged)"
            ),
        ] = "",
    ) -> list[CheckOut]:
        rows = await services.list_checks(
            principal_of(request), worker_id, purpose=purpose, route=f"{request.method} {request.url.path}"
        )
        return [msgspec.convert(r, CheckOut, strict=False) for r in rows]

    @post(
        "/trainings/{credential_id:int}/decision",
        status_code=HTTP_200_OK,
        operation_id="decideTraining",
        summary="管理员核验或驳回培训记录 (the bureau verifies or rejects a training record)",
        guards=[requires(Role.ADMIN)],
    )
    async def decide_training(
        self,
        request: Request,
        worker_id: PathId,
        credential_id: PathId,
        data: JSONBody[Decision],
    ) -> TrainingOut:
        row = await self._decide(request, worker_id, "trainings", credential_id, data)
        return msgspec.convert(row, TrainingOut, strict=False)

    @post(
        "/certificates/{credential_id:int}/decision",
        status_code=HTTP_200_OK,
        operation_id="decideCertificate",
        summary="管理员核验或驳回证书 (the bureau verifies or rejects a certificate)",
        guards=[requires(Role.ADMIN)],
    )
    async def decide_certificate(
        self,
        request: Request,
        worker_id: PathId,
        credential_id: PathId,
        data: JSONBody[Decision],
    ) -> CertificateOut:
        row = await self._decide(request, worker_id, "certificates", credential_id, data)
        return msgspec.convert(row, CertificateOut, strict=False)

    @post(
        "/checks/{credential_id:int}/decision",
        status_code=HTTP_200_OK,
        operation_id="decideCheck",
        summary="管理员核验或驳回体检、背景审查 (the bureau verifies or rejects a check)",
        guards=[requires(Role.ADMIN)],
    )
    async def decide_check(
        self,
        request: Request,
        worker_id: PathId,
        credential_id: PathId,
        data: JSONBody[Decision],
    ) -> CheckOut:
        row = await self._decide(request, worker_id, "checks", credential_id, data)
        return msgspec.convert(row, CheckOut, strict=False)

    @staticmethod
    async def _decide(request: Request, worker_id: int, kind: str, credential_id: int, data: Decision) -> dict:
        return await services.decide_credential(
            principal_of(request),
            worker_id,
            kind,
            credential_id,
            verified=data.decision == "verified",
            reason=data.reason,
        )


class TrainingAdminController(Controller):
    """What the bureau keeps about training: programmes, the verification rule, the queue of
    pending trainings, rosters, and evaluation institutions' registrations (备案)."""

    path = "/api/v1/bureau"
    tags = ["bureau: training"]

    @get(
        "/programmes",
        operation_id="listProgrammes",
        summary="培训项目编码 (programme codes)",
        guards=[requires(Role.ADMIN, *ANY_AGENCY, scope="workers:read")],
    )
    async def list_programmes(self) -> list[ProgrammeOut]:
        return [msgspec.convert(r, ProgrammeOut, strict=False) for r in await trainings.list_programmes()]

    @post(
        "/programmes",
        operation_id="createProgramme",
        summary="新增培训项目 (the bureau adds a programme)",
        guards=[requires(Role.ADMIN)],
    )
    async def create_programme(self, request: Request, data: JSONBody[ProgrammeCreate]) -> ProgrammeOut:
        row = await trainings.create_programme(principal_of(request), msgspec.structs.asdict(data))
        return msgspec.convert(row, ProgrammeOut, strict=False)

    @get(
        "/training-verification-rule",
        operation_id="getTrainingVerificationRule",
        summary="培训自动核验规则 (the rule that verifies trainings without a person)",
        guards=[requires(Role.ADMIN)],
    )
    async def get_rule(self) -> VerificationRule:
        return msgspec.convert(await trainings.verification_rule(), VerificationRule, strict=False)

    @put(
        "/training-verification-rule",
        operation_id="setTrainingVerificationRule",
        summary="设置培训自动核验规则 (set the verification rule)",
        guards=[requires(Role.ADMIN)],
    )
    async def set_rule(self, request: Request, data: JSONBody[VerificationRuleUpdate]) -> VerificationRule:
        row = await trainings.set_verification_rule(principal_of(request), msgspec.structs.asdict(data))
        return msgspec.convert(row, VerificationRule, strict=False)

    @get(
        "/trainings/pending",
        operation_id="listPendingTrainings",
        summary="待核验的培训记录及其证据 (pending trainings with their evidence)",
        guards=[requires(Role.ADMIN)],
    )
    async def pending(
        self,
        request: Request,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> TrainingPage:
        rows, total = await trainings.pending_trainings(principal_of(request), limit=limit, offset=offset)
        return TrainingPage(
            total=total, limit=limit, offset=offset, items=[msgspec.convert(r, TrainingOut, strict=False) for r in rows]
        )

    @post(
        "/training-rosters",
        operation_id="uploadTrainingRoster",
        summary="培训机构上传班级花名册（身份证号）(an institution uploads a class roster)",
        guards=[requires(Role.TRAINING, scope="trainings:write")],
    )
    async def upload_roster(self, request: Request, data: JSONBody[RosterCreate]) -> RosterOut:
        row = await trainings.upload_roster(
            principal_of(request), msgspec.structs.asdict(data), cipher=request.app.state.cipher
        )
        return msgspec.convert(row, RosterOut, strict=False)

    @get(
        "/evaluator-registrations",
        operation_id="listEvaluatorRegistrations",
        summary="评价机构备案（管理员看全部，评价机构看本机构）(registrations; institutions see their own)",
        guards=[requires(Role.ADMIN, Role.EVALUATION, scope="reports:read")],
    )
    async def list_registrations(
        self,
        request: Request,
        agency_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
    ) -> list[EvaluatorRegistrationOut]:
        rows = await evaluators.list_registrations(principal_of(request), agency_id)
        return [msgspec.convert(r, EvaluatorRegistrationOut, strict=False) for r in rows]

    @post(
        "/evaluator-registrations",
        operation_id="createEvaluatorRegistration",
        summary="登记评价机构备案 (record a registration)",
        guards=[requires(Role.ADMIN)],
    )
    async def create_registration(
        self,
        request: Request,
        data: JSONBody[EvaluatorRegistrationCreate],
    ) -> EvaluatorRegistrationOut:
        row = await evaluators.create_registration(
            principal_of(request), msgspec.structs.asdict(data), taxonomy=request.app.state.taxonomy
        )
        return msgspec.convert(row, EvaluatorRegistrationOut, strict=False)

    @patch(
        "/evaluator-registrations/{registration_id:int}",
        operation_id="updateEvaluatorRegistration",
        summary="变更备案：状态、有效期、职业 (change a registration)",
        guards=[requires(Role.ADMIN)],
    )
    async def update_registration(
        self,
        request: Request,
        registration_id: PathId,
        data: JSONBody[EvaluatorRegistrationUpdate],
    ) -> EvaluatorRegistrationOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        row = await evaluators.update_registration(
            principal_of(request), registration_id, changes, taxonomy=request.app.state.taxonomy
        )
        return msgspec.convert(row, EvaluatorRegistrationOut, strict=False)
