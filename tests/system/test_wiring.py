"""Links from a lower domain to a higher one are made by `create_app`, not by imports."""

from __future__ import annotations

import pytest

from service.employment import integrity
from service.registry import services as registry


def test_create_app_links_the_registry_to_the_employment_domain(app):
    assert registry.CHANGE_HOOKS == [integrity.recompute]
    assert registry.BLACKLIST_CAUSES == [integrity.serious_complaint_blacklist]


async def test_the_registry_refuses_to_change_facts_unlinked(monkeypatch):
    monkeypatch.setattr(registry, "_linked", False)
    with pytest.raises(RuntimeError, match="create_app"):
        await registry.mark_changed(1, "test")
    with pytest.raises(RuntimeError, match="create_app"):
        await registry.recompute_blacklist(1)
