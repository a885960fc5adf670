"""Payment settings are typed and loud: a sandbox secret derived from the secret key unless
set, and a WeChat Pay configuration that is either complete or refused at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from livebase.payments.parts import build_payments
from livebase.settings import Settings, SettingsError
from tests.payments.wechat_standin import Keys

SECRET = "k" * 48


def test_the_sandbox_secret_is_derived_from_the_secret_key_unless_set() -> None:
    derived = Settings(secret_key=SECRET).sandbox_secret
    assert derived != SECRET.encode() and len(derived) == 32
    assert Settings(secret_key="j" * 48).sandbox_secret != derived
    own = "s" * 40
    assert Settings(secret_key=SECRET, payments_sandbox_secret=own).sandbox_secret == own.encode()


def test_production_refuses_a_short_sandbox_secret() -> None:
    with pytest.raises(SettingsError, match="LIVEBASE_PAYMENTS_SANDBOX_SECRET"):
        Settings(secret_key=SECRET, payments_sandbox_secret="short").check_production_safety()


def test_settings_read_wechatpay_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in Keys().write(tmp_path).items():
        monkeypatch.setenv(f"LIVEBASE_{name.upper()}", str(value))
    monkeypatch.setenv("LIVEBASE_SECRET_KEY", SECRET)
    s = Settings()
    s.check_production_safety()
    payments = build_payments(s)
    assert sorted(payments.providers) == ["sandbox", "wechat"]
    assert payments.notify_url("wechat").endswith("/api/v1/payments/callbacks/wechat")


@pytest.mark.parametrize(
    ("drop", "named"),
    [
        ("wechatpay_private_key_path", "LIVEBASE_WECHATPAY_PRIVATE_KEY_PATH"),
        ("wechatpay_platform_cert_paths", "LIVEBASE_WECHATPAY_PLATFORM_CERT_PATHS"),
        ("wechatpay_serial_no", "LIVEBASE_WECHATPAY_SERIAL_NO"),
        ("wechatpay_apiv3_key", "LIVEBASE_WECHATPAY_APIV3_KEY"),
    ],
)
def test_a_partial_wechatpay_configuration_is_refused_naming_what_is_missing(
    tmp_path: Path, drop: str, named: str
) -> None:
    values = Keys().write(tmp_path)
    values[drop] = None if drop.endswith("_path") else ""
    s = Settings(secret_key=SECRET, **values)
    with pytest.raises(SettingsError, match=named):
        s.check_production_safety()
    with pytest.raises(SettingsError, match=named):
        build_payments(s)  # demo mode too: the provider is not built half-configured


def test_without_wechatpay_only_the_sandbox_is_offered() -> None:
    assert sorted(build_payments(Settings(secret_key=SECRET)).providers) == ["sandbox"]
