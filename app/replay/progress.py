"""A progress bar on stderr while a workload replays."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from app.replay.driver import ReplayResult

Advance = Callable[[ReplayResult], None]


@contextmanager
def progress_bar(total: int, *, enabled: bool) -> Iterator[Advance]:
    """Yields the callback to call once per finished request."""
    if not enabled:
        yield lambda result: None
        return
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        "{task.fields[errors]} errors",
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("replaying", total=total, errors=0)
        errors = 0

        def advance(result: ReplayResult) -> None:
            nonlocal errors
            errors += not result.ok
            progress.update(task, advance=1, errors=errors)

        yield advance
