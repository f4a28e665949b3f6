"""Sweeps: miss-ratio cells (traces by policies by sizes) computed in parallel (docs/sweeps.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Sweep(models.Model):
    """A grid of cells; its state is its cells' (selectors.sweep_state)."""

    class Backend(models.TextChoices):
        LOCAL = "local", "process pool of this server"
        CELERY = "celery", "Celery workers"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="sweeps")
    name = models.CharField(max_length=200)
    policies = models.JSONField(default=list)
    sizes = models.JSONField(default=list)  # cache sizes in pages (classic mode), every trace's
    #: {"count": N, "low_percent": P}: each trace's sizes log-spaced from P % of its distinct
    #: pages to all of them ({}: ``sizes`` for every trace)
    relative_sizes = models.JSONField(default=dict, blank=True)
    #: {"param": name, "values": [...]}: one policy parameter as an axis ({}: none)
    axis = models.JSONField(default=dict, blank=True)
    #: sample pages at this rate (docs/mrc.md §4; each cell's own rate may be higher); null:
    #: exact simulations
    sample_rate = models.FloatField(null=True, blank=True)
    backend = models.CharField(max_length=6, choices=Backend.choices, default=Backend.LOCAL)
    cancelled = models.BooleanField(default=False)
    #: stamped every few seconds by the server process computing a local sweep's cells; a
    #: stale one means that process died (services.SweepKeeper)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class SweepCell(models.Model):
    """One point: the misses of ``policy`` (with ``params``) at ``size`` pages on ``trace``.
    Written once (an update conditioned on the cell not being done): a cell computed twice,
    after a retry, still counts once."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="cells")
    trace = models.ForeignKey("traces.Trace", null=True, on_delete=models.SET_NULL,
                              related_name="+")
    #: the trace's id when the sweep was made (kept if the trace is deleted), and its name
    trace_ref = models.BigIntegerField()
    trace_name = models.CharField(max_length=200)
    policy = models.CharField(max_length=20)
    #: the policy's parameters in this cell (the sweep's axis value; {}: its defaults)
    params = models.JSONField(default=dict, blank=True)
    size = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    requests = models.BigIntegerField(null=True, blank=True)
    misses = models.BigIntegerField(null=True, blank=True)
    miss_ratio = models.FloatField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    #: the cell's sampling rate (null: the exact simulation), whether its result is exact,
    #: and the estimated standard error of a sampled miss ratio
    sample_rate = models.FloatField(null=True, blank=True)
    exact = models.BooleanField(default=True)
    std_error = models.FloatField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    error = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(
            fields=["sweep", "trace_ref", "policy", "params", "size"], name="sweep_cell_once")]

    def __str__(self) -> str:
        return f"{self.trace_name} {self.policy}@{self.size}"
