from __future__ import annotations

from pathlib import Path

import pytest

from livebase.app import create_app
from livebase.settings import DEMO_SECRET, Settings, SettingsError, normalise_database_url


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(SettingsError, match="LIVEBASE_SECRET_KEY"):
        create_app(Settings(demo=False, secret_key=DEMO_SECRET))


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(SettingsError):
        Settings(demo=False, secret_key="short-secret").check_production_safety()


def test_demo_mode_accepts_the_default_and_production_a_long_secret() -> None:
    Settings(demo=True).check_production_safety()
    Settings(demo=False, secret_key="k" * 48).check_production_safety()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEBASE_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("LIVEBASE_DEMO", "1")
    monkeypatch.setenv("LIVEBASE_PUBLIC_URL", "https://live.example.cn")
    s = Settings()
    assert s.login_max_failures == 7 and s.demo is True
    assert s.effective_rtmp_url == "rtmp://live.example.cn:1935/live"
    assert s.effective_hls_url == "http://live.example.cn:8080/hls"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@db:5432/live", "postgresql+psycopg://u@db:5432/live"),
        ("postgres://u@db/live", "postgresql+psycopg://u@db/live"),
        ("postgresql+psycopg://u@db/live", "postgresql+psycopg://u@db/live"),
        ("sqlite:////srv/live.db", "sqlite:////srv/live.db"),
    ],
)
def test_database_urls_take_the_plain_forms(given: str, expected: str) -> None:
    assert normalise_database_url(given, Path("/x")) == expected


def test_default_database_is_a_file_under_the_data_dir(tmp_path: Path) -> None:
    assert normalise_database_url("", tmp_path) == f"sqlite:///{tmp_path / 'livebase.db'}"


def test_unknown_database_scheme_is_refused() -> None:
    with pytest.raises(SettingsError):
        normalise_database_url("mysql://root@localhost/db", Path("/x"))
