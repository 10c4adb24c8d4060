from __future__ import annotations

import pytest
from pydantic import ValidationError

from shiyu.config import DEFAULT_SECRET_KEY, Settings


def test_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIYU_DATABASE_URL", "sqlite:////tmp/x.db")
    monkeypatch.setenv("SHIYU_LOGIN_MAX_FAILURES", "42")
    settings = Settings()
    assert settings.database_url == "sqlite:////tmp/x.db"
    assert settings.login_max_failures == 42
    assert settings.is_sqlite


def test_default_is_sqlite_under_var() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite:///var/shiyu.db"  # ./var/ of the working directory


@pytest.mark.parametrize("environment", ["test", "production"])
def test_default_secret_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="SHIYU_SECRET_KEY"):
        Settings(environment=environment, secret_key=DEFAULT_SECRET_KEY)  # type: ignore[arg-type]


def test_short_secret_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(environment="production", secret_key="short-but-not-default")  # type: ignore[arg-type]


def test_development_accepts_default() -> None:
    assert Settings(environment="development").secret_key == DEFAULT_SECRET_KEY  # type: ignore[arg-type]


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIYU_ACCESS_TOKEN_MINUTES", "0")
    with pytest.raises(ValidationError):
        Settings()
