"""The review form, shared by both sides of a placement: the first review, and its edit
while the service allows it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from litestar import Request
from litestar.datastructures import FormMultiDict

from service.accounts.guards import principal_of
from service.employment import services as employment
from service.employment.schemas import ReviewCreate, ReviewUpdate
from service.errors import AppError, NotFound
from service.web import queries
from service.web.forms import FormErrors, app_error_fields, decode_form


def _ratings(form: FormMultiDict, rating_names: Iterable[str]) -> dict:
    ratings = {k: form.get(f"ratings.{k}") for k in rating_names}
    missing = {f"ratings.{k}": "请打分 (choose 1-5)" for k, v in ratings.items() if not v}
    if missing:
        raise FormErrors(missing)
    return ratings


async def submit_review(request: Request, form: FormMultiDict, placement_id: int, rating_names: Iterable[str]) -> None:
    """Add the caller's review from the form; FormErrors name the fields to show again."""
    data = decode_form(form, ReviewCreate, extra={"ratings": _ratings(form, rating_names)})
    window = timedelta(hours=request.app.state.settings.review_edit_hours)
    try:
        await employment.add_review(
            principal_of(request), placement_id, ratings=data.ratings, comment=data.comment, edit_window=window
        )
    except AppError as exc:
        raise app_error_fields(exc) from None


async def submit_review_edit(
    request: Request, form: FormMultiDict, placement_id: int, rating_names: Iterable[str], *, side: str
) -> None:
    """Change the caller's review of this placement from the form (the service checks that
    it is hers and that its edit window is still open)."""
    review = (await queries.reviews_by_side(placement_id)).get(side)
    if review is None:
        raise NotFound("评价不存在 (no such review)")
    data = decode_form(form, ReviewUpdate, extra={"ratings": _ratings(form, rating_names)})
    try:
        await employment.edit_review(
            principal_of(request), review["id"], ratings=data.ratings, comment=data.comment or ""
        )
    except AppError as exc:
        if exc.status_code == 404:
            raise
        raise app_error_fields(exc) from None
