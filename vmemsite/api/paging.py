"""One page of a list the API returns: ``?limit=&offset=`` over a query, newest first as the
query orders it, with the total count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet

#: items per page, by default and at most
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
_MAX_OFFSET = 10**12


def page_of(items: QuerySet, limit: int, offset: int, key: str,
            show: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """``{"count", "limit", "offset", key: [show(item), ...]}``: at most MAX_LIMIT items from
    ``offset`` (limit 0 gives the count alone)."""
    limit, offset = min(limit, MAX_LIMIT), min(offset, _MAX_OFFSET)
    page = items[offset:offset + limit] if limit else []
    return {"count": items.count(), "limit": limit, "offset": offset,
            key: [show(item) for item in page]}
