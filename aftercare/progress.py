"""A rich progress bar while files load: only on a terminal, never with --quiet or
under cron (stderr not a TTY)."""

from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def loading_progress(enabled: bool = True):
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task("读取", total=None)

        def update(name: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"读取 {name}")

        yield update
