"""What the payments feature adds to the runtime: the providers, built from settings.

Job handlers are called with only a session and a payload, so the providers are also put
in the runtime's sessions' ``info`` (as the event dispatcher is): a refund job run by
``livebase worker`` finds the same providers as a request in ``serve``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy.orm import Session

from livebase.payments.provider import Provider
from livebase.payments.sandbox import SandboxProvider
from livebase.runtime import Part, Runtime
from livebase.settings import Settings

_INFO_KEY = "livebase.payments"
CALLBACK_PATH = "/api/v1/payments/callbacks/{provider}"


@dataclass
class Payments:
    public_url: str
    sandbox: SandboxProvider
    providers: dict[str, Provider] = field(default_factory=dict)

    def provider(self, name: str) -> Provider | None:
        return self.providers.get(name)

    def notify_url(self, provider: str) -> str:
        return self.public_url + CALLBACK_PATH.format(provider=provider)


def build_payments(settings: Settings) -> Payments:
    public_url = settings.public_url.rstrip("/")
    sandbox = SandboxProvider(settings.sandbox_secret, public_url)
    out = Payments(public_url, sandbox, {sandbox.name: sandbox})
    if settings.wechatpay_configured:
        settings.check_wechatpay()
        from livebase.payments import wechat  # cryptography is only needed with WeChat

        key_path = cast(Path, settings.wechatpay_private_key_path)
        certs = [
            Path(p.strip()).read_bytes()
            for p in settings.wechatpay_platform_cert_paths.split(",")
            if p.strip()
        ]
        config = wechat.MerchantConfig(
            mchid=settings.wechatpay_mchid,
            appid=settings.wechatpay_appid,
            serial_no=settings.wechatpay_serial_no,
            private_key=wechat.load_private_key(key_path.read_bytes()),
            apiv3_key=settings.wechatpay_apiv3_key.encode(),
            platform_keys=wechat.load_platform_certificates(certs),
            base_url=settings.wechatpay_base_url,
            mode="jsapi" if settings.wechatpay_mode == "jsapi" else "native",
        )
        out.providers[wechat.NAME] = wechat.WeChatPayProvider(config)
    return out


def _build(rt: Runtime) -> Payments:
    payments = build_payments(rt.settings)
    info: dict[Any, Any] = dict(rt.sessions.kw.get("info") or {})
    info[_INFO_KEY] = payments
    rt.sessions.configure(info=info)
    return payments


PAYMENTS: Part[Payments] = Part("payments.providers", _build)


def payments_of(db: Session) -> Payments:
    """The providers of the runtime this session belongs to (for job handlers)."""
    try:
        return cast(Payments, db.info[_INFO_KEY])
    except KeyError:
        raise LookupError("this session's runtime has no payments part installed") from None
