"""The lab's records: runs and their windowed metrics.

Writes go through ``services.py``, reads through ``selectors.py`` (no logic in ``save()``).

A run's windowed metrics are stored as **chunks**: one row per streamed frame (at most ~10 a
second per run), each holding every window the engine closed since the previous frame, for every
variant, plus the notable events of those windows. The run page replays the chunks, so a
finished run shows the same charts as it did live, and a browser that missed frames re-reads
them over HTTP.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Run(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", "single run"
        COMPARE = "compare", "comparison"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        PAUSED = "paused"
        FINISHED = "finished"
        STOPPED = "stopped"
        FAILED = "failed"
        # the server or worker executing it stopped or died mid-way (its windows are kept);
        # "Run again" starts a copy
        INTERRUPTED = "interrupted"

    class Desired(models.TextChoices):
        """What the owner asked for; the executor reads it and moves ``status`` along."""

        RUNNING = "running"
        PAUSED = "paused"
        STOPPED = "stopped"

    DONE = (Status.FINISHED, Status.STOPPED, Status.FAILED, Status.INTERRUPTED)
    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.PAUSED)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs"
    )
    label = models.CharField(max_length=200, blank=True)
    public = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    # single: SimConfig.to_dict(); compare: {"variants": [{"label", "config"}], "with_opt"}
    config = models.JSONField()
    # {"kind": "generator", "name", "params"} | {"kind": "trace", "trace_id", "name"}
    # | {"kind": "sequence", "pages", "tokens"}; plus "sessions" (single runs)
    workload = models.JSONField()
    trace = models.ForeignKey(
        "traces.Trace", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    desired = models.CharField(max_length=10, choices=Desired.choices, default=Desired.RUNNING)
    # simulated ms per wall second; None = as fast as possible
    speed = models.FloatField(null=True, blank=True)
    step_requests = models.PositiveIntegerField(default=0)  # single steps asked for so far
    runner = models.CharField(max_length=10, blank=True)  # local | celery
    # refreshed every few seconds while the run is held by a live process (the server's run
    # pool, or the Celery worker executing it); a stale one means that process is gone
    # (executor.run_recover_interrupted, docs/architecture.md §10)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(null=True, blank=True)  # 0..1 for finite workloads
    accesses = models.BigIntegerField(default=0)  # processed so far
    total = models.BigIntegerField(null=True, blank=True)  # None: endless
    seq = models.IntegerField(default=-1)  # last stored chunk
    error = models.TextField(blank=True)
    # the latest counters per variant (for lists and state on connect)
    counters = models.JSONField(default=dict, blank=True)
    # single: RunResult.to_dict(); compare: {"rows": [...], "results": {label: RunResult}}
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["public", "-created_at"])]

    def __str__(self) -> str:
        return f"run {self.pk}: {self.label or self.kind}"

    @property
    def is_done(self) -> bool:
        return self.status in self.DONE


class RunChunk(models.Model):
    """One streamed frame's worth of windows (see the module docstring)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="chunks")
    seq = models.IntegerField()
    points = models.JSONField()  # {variant label: [window point, ...]}
    events = models.JSONField(default=list)  # the last notable events of those windows

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="runchunk_unique_seq"),
        ]


class RunOverview(models.Model):
    """A cache of a run's overview, kept up to date by whoever reads the state
    (:mod:`vmemsite.runs.overview`): every series downsampled to a fixed budget, the last
    notable events and a sparse chunk index, up to chunk ``seq``. Deleting it loses nothing:
    it is rebuilt from the chunks."""

    run = models.OneToOneField(Run, on_delete=models.CASCADE, primary_key=True,
                               related_name="overview")
    seq = models.IntegerField(default=-1)  # the last chunk folded in
    data = models.JSONField(default=dict)
