"""Shared test set-up."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_parse_cache_session(tmp_path_factory):
    """Never write to the user's real parse cache, not even from module-scoped fixtures
    that run a command: $XDG_CACHE_HOME (where the default cache directory lives) points
    into a temporary folder for the whole session."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache-session")))
        yield


@pytest.fixture(autouse=True)
def _private_parse_cache(tmp_path_factory, monkeypatch):
    """Each test its own default cache directory; the process-wide default that a CLI
    run sets (aftercare.load.cache.set_default) is cleared after each test."""
    from aftercare.load import cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    cache.set_default(None)
