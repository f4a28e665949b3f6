"""Chat sessions whose context the virtual memory manages (docs/sessions.md), kept in the
database so that a session survives a page reload and a server restart.

A :class:`Chat` stores its settings, the whole memory state (``ChatSession.to_dict()``: pages,
journal, turn statistics — ``ChatSession.from_dict`` rebuilds the identical session) and the
latest snapshot of L0 for the page. Its :class:`ChatMessage` rows are the transcript: the
user's message is saved before the model is called, so a failed call loses nothing.

Writes go through ``services.py``, reads through ``selectors.py`` (no logic in ``save()``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Chat(models.Model):
    class Kind(models.TextChoices):
        CHAT = "chat", "chat"
        SCRIPT = "script", "scripted session"

    class Provider(models.TextChoices):
        EMBEDDED = "embedded", "Embedded SmolLM2-135M (offline)"
        HTTP = "http", "OpenAI-compatible HTTP endpoint"
        SCRIPTED = "scripted", "Scripted (no model)"

    class Status(models.TextChoices):
        IDLE = "idle"  # a chat waiting for the user
        THINKING = "thinking"  # a turn is being answered
        QUEUED = "queued"  # a script waiting for a worker
        RUNNING = "running"  # a script playing
        FINISHED = "finished"  # a script played to the end
        FAILED = "failed"  # a script that could not run

    BUSY = (Status.THINKING, Status.QUEUED, Status.RUNNING)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chats"
    )
    #: seconds between turns for the prompt-cache bill (docs/cost.md §5); None: a chat's real
    #: time between messages, a script's transcript times (else the default think time)
    think_time = models.FloatField(null=True, blank=True)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CHAT)
    provider = models.CharField(max_length=10, choices=Provider.choices,
                                default=Provider.EMBEDDED)
    model_name = models.CharField(max_length=200, blank=True)
    tokenizer = models.CharField(max_length=200, blank=True)
    preset = models.CharField(max_length=20, default="vmem")
    # the L0 policy when it differs from the preset's ("" = the preset's own)
    policy = models.CharField(max_length=20, blank=True)
    context_window = models.PositiveIntegerField(default=1024)
    page_size = models.PositiveIntegerField(default=64)
    max_tokens = models.PositiveIntegerField(default=64)
    # the pricing profile that bills every model call ("" = none; docs/cost.md §5)
    pricing = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IDLE)
    # ChatSession.to_dict(): everything needed to rebuild the session (no secrets: keys stay
    # in the environment)
    state = models.JSONField(default=dict, blank=True)
    # the latest view of the memory for the page (L0 pages, budget, manifest, counters)
    snapshot = models.JSONField(default=dict, blank=True)
    # scripted sessions: the conversation file's name and text, progress, final figures
    script_name = models.CharField(max_length=200, blank=True)
    script_text = models.TextField(blank=True)
    turns_total = models.PositiveIntegerField(null=True, blank=True)
    turns_done = models.PositiveIntegerField(default=0)
    totals = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    # the last open-loop replay of this session's trace in the simulator
    replay_run = models.ForeignKey("simulator.Run", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # stamped every few seconds while a server process holds the chat's work (turn or script);
    # a busy chat whose heartbeat is stale has no live process behind it (vmemsite.live)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"chat {self.pk}: {self.title}"

    @property
    def is_busy(self) -> bool:
        return self.status in self.BUSY


class ChatMessage(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"
        ERROR = "error"  # the model call failed; ``metrics.error`` holds kind and message

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    turn = models.PositiveIntegerField()
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    # per turn (on the answer or error): faults, evictions, recall, model/memory seconds,
    # tokens, notes, error, and the turn's notable events (bounded)
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["chat", "id"])]

    def __str__(self) -> str:
        return f"{self.role} t{self.turn}: {self.text[:40]}"


class UserPricingProfile(models.Model):
    """A pricing profile a user wrote (docs/cost.md, "Your own profiles"): the text as typed
    (TOML or JSON) and its decoded table, validated by the same code as the shipped files."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pricing_profiles"
    )
    name = models.CharField(max_length=80)
    text = models.TextField()
    data = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"],
                                               name="one_pricing_name_per_user")]

    def __str__(self) -> str:
        return self.name
