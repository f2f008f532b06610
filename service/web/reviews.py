"""The review form, shared by both sides of a placement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from litestar import Request
from litestar.datastructures import FormMultiDict

from service.accounts.guards import principal_of
from service.employment import services as employment
from service.employment.schemas import ReviewCreate
from service.errors import AppError
from service.web.forms import FormErrors, app_error_fields, decode_form


async def submit_review(request: Request, form: FormMultiDict, placement_id: int, rating_names: Iterable[str]) -> None:
    """Add the caller's review from the form; FormErrors name the fields to show again."""
    ratings = {k: form.get(f"ratings.{k}") for k in rating_names}
    missing = {f"ratings.{k}": "请打分 (choose 1-5)" for k, v in ratings.items() if not v}
    if missing:
        raise FormErrors(missing)
    data = decode_form(form, ReviewCreate, extra={"ratings": ratings})
    window = timedelta(hours=request.app.state.settings.review_edit_hours)
    try:
        await employment.add_review(
            principal_of(request), placement_id, ratings=data.ratings, comment=data.comment, edit_window=window
        )
    except AppError as exc:
        raise app_error_fields(exc) from None
