"""A one-line progress bar for the command line (``vmem simulate``, ``compare``, ``mrc``)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from simulator.engine.events import RunResult, WindowSnapshot
from simulator.engine.observers import Observer

__all__ = ["ProgressBar"]


class ProgressBar(Observer):
    """A one-line progress bar on a terminal (rich), redrawn at most 10 times a second; the
    rate and ETA come from the run's own clock (``draw(done, now)``)."""

    def __init__(self, total: int | None, stream: TextIO = sys.stderr, label: str = "",
                 unit: str = "accesses") -> None:
        self.total = total
        self.started = time.monotonic()
        self.last_draw = 0.0
        columns = [TextColumn("{task.description}")]
        if total:
            columns += [BarColumn(bar_width=30), TextColumn("{task.percentage:>5.1f}%"),
                        TextColumn("{task.completed:,}/{task.total:,}")]
        else:
            columns.append(TextColumn(f"{{task.completed:,}} {unit}"))
        columns.append(TextColumn("{task.fields[rate]}  {task.fields[eta]}"))
        self.progress = Progress(*columns, console=Console(file=stream, force_terminal=True,
                                                           width=120),
                                 auto_refresh=False)
        self.task = self.progress.add_task(label, total=total, rate="", eta="")
        self.progress.start()

    def on_window(self, snapshot: WindowSnapshot) -> None:
        now = time.monotonic()
        if now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self.draw(snapshot.end, now)

    def draw(self, done: int, now: float) -> None:
        rate = done / max(now - self.started, 1e-9)
        eta = ""
        if self.total:
            left = (self.total - done) / rate if rate else 0
            eta = f"ETA {left:4.0f}s"
        shown = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"  # points of a curve come slowly
        self.progress.update(self.task, completed=done, rate=f"{shown}/s", eta=eta)
        self.progress.refresh()

    def on_finish(self, result: RunResult) -> None:
        self.draw(result.requests if self.total is None else self.total, time.monotonic())
        self.close()

    def close(self) -> None:
        self.progress.stop()
