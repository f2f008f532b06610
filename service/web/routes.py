"""The pages' router: every page handler, HTML errors, and the service's own static files."""

from __future__ import annotations

from litestar import Router
from litestar.static_files import create_static_files_router

from service.web.accounts import AccountPages
from service.web.common import HERE, PAGE_EXCEPTION_HANDLERS


def web_routers() -> list[Router]:
    from service.web.agency import AgencyPages
    from service.web.bureau import BureauPages
    from service.web.bureau_reports import BureauReportPages
    from service.web.household import HouseholdPages
    from service.web.institution import InstitutionPages
    from service.web.public import PublicPages
    from service.web.worker import WorkerPages

    pages = Router(
        path="/",
        route_handlers=[
            AccountPages,
            HouseholdPages,
            WorkerPages,
            PublicPages,
            AgencyPages,
            BureauPages,
            BureauReportPages,
            InstitutionPages,
        ],
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static", directories=[HERE / "static"], opt={"public": True}, include_in_schema=False
    )
    return [pages, static]
