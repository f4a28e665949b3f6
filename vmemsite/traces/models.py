"""The trace library: uploaded access traces, validated once, with their statistics."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models

from simulator.engine.traces import CsvLayout


class Trace(models.Model):
    """A trace file in one of the engine's formats, stored under ``DATA_DIR/traces/``.

    A row exists only for a file that was read to the end without error (see
    ``traces.services.trace_upload``); the statistics are computed in that same pass, on the
    sizes as a replay reads them: ``size_unit`` says what the file's size column holds
    (tokens; bytes, ``bytes_per_token`` of them to a token, rounded up per access; or ignored,
    every access one token). ``total_tokens`` is in tokens in every case; for bytes, the
    column's own total is ``stats["total_bytes"]``.
    """

    class SizeUnit(models.TextChoices):
        TOKENS = "tokens", "tokens"
        BYTES = "bytes", "bytes"
        IGNORE = "ignore", "ignored (every access is 1 token)"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="traces"
    )
    name = models.CharField(max_length=200)
    fmt = models.CharField(max_length=10)  # plain | csv | jsonl | oracle (detected or given)
    file = models.CharField(max_length=500)  # path relative to DATA_DIR
    size_bytes = models.BigIntegerField()
    requests = models.BigIntegerField()
    distinct_pages = models.BigIntegerField()
    total_tokens = models.BigIntegerField()
    size_unit = models.CharField(max_length=6, choices=SizeUnit.choices,
                                 default=SizeUnit.TOKENS)
    bytes_per_token = models.BigIntegerField(null=True, blank=True)
    #: a CSV of another shape: CsvLayout.to_dict() (columns, delimiter, header); else null
    csv_layout = models.JSONField(null=True, blank=True)
    stats = models.JSONField(default=dict)  # TraceStats.to_dict() (+ total_bytes)
    public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="trace_bytes_per_token_with_bytes",
                condition=(models.Q(size_unit="bytes", bytes_per_token__gte=1)
                           | (~models.Q(size_unit="bytes")
                              & models.Q(bytes_per_token__isnull=True))),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sizes_in_bytes(self) -> bool:
        return self.size_unit == self.SizeUnit.BYTES

    @property
    def sizes_ignored(self) -> bool:
        return self.size_unit == self.SizeUnit.IGNORE

    @property
    def layout(self) -> CsvLayout | None:
        """How to read a CSV of another shape (None: the CSV has our header, or not a CSV)."""
        return CsvLayout.from_dict(self.csv_layout) if self.csv_layout else None

    @property
    def compression(self) -> str | None:
        """``gzip``, ``zstd`` or None, as the stored file's name says."""
        return {".gz": "gzip", ".zst": "zstd"}.get(Path(self.file).suffix)

    @property
    def total_bytes(self) -> int | None:
        """The size column's total as written, for a trace whose sizes are bytes."""
        return (self.stats or {}).get("total_bytes") if self.sizes_in_bytes else None


#: what a trace's size column (``tokens``, alias ``size``) may hold
SIZE_UNITS: tuple[str, ...] = tuple(Trace.SizeUnit.values)


class TraceAnalysis(models.Model):
    """The analysis of a trace (``simulator.engine.analysis``, docs/analysis.md), computed
    once: right after the upload for a small trace, else as a background job whose
    ``progress`` (0 to 1) the page shows. ``result`` is ``TraceAnalysis.to_dict()``, bounded
    whatever the trace's length (docs/traces.md, "Analysis")."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    trace = models.OneToOneField(Trace, on_delete=models.CASCADE, related_name="analysis")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: touched at least every few seconds while running: a stale one was lost with its process
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"analysis of {self.trace_id} ({self.status})"
