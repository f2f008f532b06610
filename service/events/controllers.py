from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from service.accounts.guards import Role, principal_of, requires
from service.events import services
from service.events.schemas import Delivery, Webhook, WebhookCreate, WebhookCreated
from service.idempotency import idempotent
from service.schemas import PathId

AGENCIES = (Role.HOUSEKEEPING, Role.TRAINING, Role.EVALUATION)


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]
    guards = [requires(*AGENCIES, scope="webhooks:manage")]

    @post(
        "/",
        operation_id="createWebhook",
        summary="订阅事件推送，签名密钥只显示一次 (subscribe to events; the signing secret is shown once)",
    )
    async def create(self, request: Request, data: JSONBody[WebhookCreate]) -> Response[WebhookCreated]:
        async def act():
            row = await services.subscribe(
                principal_of(request),
                url=data.url,
                event_types=data.event_types,
                cipher=request.app.state.cipher,
                allow_private=request.app.state.settings.allow_private_webhooks,
                resolve=request.app.state.resolver,
            )
            return msgspec.convert(row, WebhookCreated, strict=False)

        return await idempotent(request, act, status_code=201)

    @get("/", operation_id="listWebhooks", summary="本机构的订阅 (the agency's subscriptions)")
    async def list_subscriptions(self, request: Request) -> list[Webhook]:
        return [
            msgspec.convert(r, Webhook, strict=False) for r in await services.list_subscriptions(principal_of(request))
        ]

    @delete(
        "/{subscription_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        operation_id="deleteWebhook",
        summary="取消订阅 (unsubscribe)",
    )
    async def remove(self, request: Request, subscription_id: PathId) -> None:
        await services.unsubscribe(principal_of(request), subscription_id)

    @get(
        "/{subscription_id:int}/deliveries",
        operation_id="listWebhookDeliveries",
        summary="推送记录：状态、重试次数、最近错误 (the delivery log)",
    )
    async def deliveries(
        self,
        request: Request,
        subscription_id: PathId,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000)] = 0,
    ) -> list[Delivery]:
        rows = await services.list_deliveries(principal_of(request), subscription_id, limit=limit, offset=offset)
        return [msgspec.convert(r, Delivery, strict=False) for r in rows]
