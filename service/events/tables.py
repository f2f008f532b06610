"""The outbox: events written in the same transaction as the change they describe, the
agencies' webhook subscriptions, and one delivery row per event and subscriber."""

from enum import StrEnum

from piccolo.columns import JSONB, Array, Boolean, Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import Serial
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.accounts.tables import Agency


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class Event(Table):
    id: Serial
    type = Varchar(length=48, index=True)
    payload = JSONB()
    # The agencies this event concerns; only their subscriptions receive it.
    agency_ids = Array(base_column=Integer())
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookSubscription(Table, tablename="webhook_subscription"):
    id: Serial
    agency = ForeignKey(references=Agency, index=True)
    url = Varchar(length=500)
    event_types = Array(base_column=Varchar(length=48))
    # The signing secret, encrypted with the data key (shown to the agency once).
    secret_encrypted = Bytea()
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table, tablename="webhook_delivery"):
    id: Serial
    event = ForeignKey(references=Event, index=True)
    subscription = ForeignKey(references=WebhookSubscription, index=True)
    status = Varchar(length=16, default=DeliveryStatus.PENDING, index=True, choices=DeliveryStatus)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    last_status_code = Integer(null=True, default=None)
    last_error = Text(default="")
    delivered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
