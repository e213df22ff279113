"""The commands' bodies (the CLI parses the options and calls ``run_<command>``)."""

from __future__ import annotations

import importlib
from typing import Callable


def importing(*modules: str) -> Callable[[], None]:
    """A ``meanwhile`` for :func:`aftercare.load.load_folder`: imports ``modules`` (the
    ones that write the command's outputs) while the parse workers run, instead of before
    the workers are started, where each run waited for them."""

    def run() -> None:
        for name in modules:
            importlib.import_module(name)

    return run
