"""The trace library: uploaded access traces, validated once, with their statistics."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Trace(models.Model):
    """A trace file in one of the engine's formats, stored under ``DATA_DIR/traces/``.

    A row exists only for a file that was read to the end without error (see
    ``traces.services.trace_upload``); the statistics are computed in that same pass.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="traces"
    )
    name = models.CharField(max_length=200)
    fmt = models.CharField(max_length=10)  # plain | csv | jsonl (as detected or given)
    file = models.CharField(max_length=500)  # path relative to DATA_DIR
    size_bytes = models.BigIntegerField()
    requests = models.BigIntegerField()
    distinct_pages = models.BigIntegerField()
    total_tokens = models.BigIntegerField()
    stats = models.JSONField(default=dict)  # TraceStats.to_dict()
    public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
