"""Observers: how a run's output leaves the engine. The engine calls them; it never does I/O."""

from __future__ import annotations

from .events import Event, RunResult, WindowSnapshot


class Observer:
    """Base observer; override what you need.

    ``on_window`` receives one snapshot per window (every ``window_accesses`` accesses or
    ``window_ms`` simulated ms). ``on_event`` is called for every notable event only when
    ``wants_events`` is true — most observers should read ``snapshot.events`` instead, which
    carries the last few events of the window without a call per event.
    """

    wants_events: bool = False
    #: with ``wants_events``: take each event as the raw tuple the engine makes (the fields of
    #: :class:`Event`, in order) in ``on_raw_event`` instead of an ``Event`` in ``on_event``.
    #: For observers that look at every fault of a long run: it spares building an ``Event``.
    raw_events: bool = False

    def on_window(self, snapshot: WindowSnapshot) -> None:
        """A window closed."""

    def on_event(self, event: Event) -> None:
        """A notable event happened (only if ``wants_events``)."""

    def on_raw_event(self, raw: tuple) -> None:
        """The same, as ``Event``'s fields in a tuple (only if ``wants_events`` and
        ``raw_events``)."""

    def on_finish(self, result: RunResult) -> None:
        """The workload is exhausted; ``result`` is final."""


class Recorder(Observer):
    """Keeps every snapshot and, if asked, every event; handy in tests and notebooks."""

    def __init__(self, events: bool = False) -> None:
        self.wants_events = events
        self.windows: list[WindowSnapshot] = []
        self.events: list[Event] = []
        self.result: RunResult | None = None

    def on_window(self, snapshot: WindowSnapshot) -> None:
        self.windows.append(snapshot)

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_finish(self, result: RunResult) -> None:
        self.result = result
