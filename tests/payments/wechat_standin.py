"""A local stand-in for WeChat Pay's API v3, for tests (there is no network here).

It plays WeChat's side with keys the test generates: it checks the merchant's
``Authorization`` signature with the merchant's public key, answers Native orders and
refunds signed with the *platform* key (``Wechatpay-*`` headers), and writes payment
notifications the way WeChat does (resource encrypted with AES-256-GCM under the APIv3
key, the envelope signed with the platform key). It can be told to fail refunds a number
of times, or to sign its answers with a key the merchant does not know.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livebase.payments.wechat import encrypt_resource, rsa_sign, rsa_verify

AUTH_RE = re.compile(r'(\w+)="([^"]*)"')


def new_key() -> rsa.RSAPrivateKey:
    # 2048 bits, as WeChat Pay's merchant and platform keys.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed(key: rsa.RSAPrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


@dataclass
class Keys:
    mchid: str = "1900000109"
    appid: str = "wxd678efh567hg6787"
    merchant_serial: str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    merchant_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    platform_key: rsa.RSAPrivateKey = field(default_factory=new_key)
    apiv3_key: str = field(default_factory=lambda: secrets.token_hex(16))  # 32 characters
    platform_cert: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        self.platform_cert = self_signed(self.platform_key, "Tenpay.com Root CA stand-in")

    @property
    def platform_serial(self) -> str:
        return format(self.platform_cert.serial_number, "X")

    def write(self, folder: Path) -> dict[str, Any]:
        """The key files a merchant keeps, and the settings that name them."""
        key_path = folder / "apiclient_key.pem"
        key_path.write_bytes(
            self.merchant_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert_path = folder / "wechatpay_platform.pem"
        cert_path.write_bytes(self.platform_cert.public_bytes(serialization.Encoding.PEM))
        return {
            "wechatpay_mchid": self.mchid,
            "wechatpay_appid": self.appid,
            "wechatpay_serial_no": self.merchant_serial,
            "wechatpay_private_key_path": key_path,
            "wechatpay_apiv3_key": self.apiv3_key,
            "wechatpay_platform_cert_paths": str(cert_path),
        }


@dataclass
class StandIn:
    keys: Keys
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why a request was refused
    fail_refunds: int = 0  # answer this many refunds with a 500 first
    sign_with: rsa.RSAPrivateKey | None = None  # another key: answers the merchant distrusts

    def sign_headers(
        self, body: bytes, *, serial: str | None = None, at: int | None = None
    ) -> dict[str, str]:
        ts = str(int(time.time()) if at is None else at)
        nonce = secrets.token_hex(16)
        message = ts.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
        return {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa_sign(self.sign_with or self.keys.platform_key, message),
            "Wechatpay-Serial": serial or self.keys.platform_serial,
        }

    def _answer(self, status: int, data: dict[str, Any]) -> Response:
        body = json.dumps(data).encode()
        return Response(
            body, status, headers=self.sign_headers(body), media_type="application/json"
        )

    async def _check_merchant(self, request: Request) -> bytes | None:
        body = await request.body()
        header = request.headers.get("authorization", "")
        schema, _, params = header.partition(" ")
        p = dict(AUTH_RE.findall(params))
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        message = f"{request.method}\n{path}\n{p.get('timestamp')}\n{p.get('nonce_str')}\n".encode()
        message += body + b"\n"
        ok = (
            schema == "WECHATPAY2-SHA256-RSA2048"
            and p.get("mchid") == self.keys.mchid
            and p.get("serial_no") == self.keys.merchant_serial
            and abs(time.time() - int(p.get("timestamp") or 0)) <= 300
            and rsa_verify(self.keys.merchant_key.public_key(), message, p.get("signature", ""))
        )
        if not ok:
            self.refused.append(header)
            return None
        return body

    async def native(self, request: Request) -> Response:
        body = await self._check_merchant(request)
        if body is None:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        data = json.loads(body)
        self.orders[data["out_trade_no"]] = data
        return self._answer(
            200, {"code_url": f"weixin://wxpay/bizpayurl?pr={secrets.token_hex(4)}"}
        )

    async def refund(self, request: Request) -> Response:
        body = await self._check_merchant(request)
        if body is None:
            return self._answer(401, {"code": "SIGN_ERROR", "message": "签名错误"})
        data = json.loads(body)
        self.refunds.append(data)
        if self.fail_refunds > 0:
            self.fail_refunds -= 1
            return self._answer(500, {"code": "SYSTEM_ERROR", "message": "系统繁忙"})
        return self._answer(
            200,
            {
                "refund_id": f"50300{len(self.refunds):08d}",
                "out_refund_no": data["out_refund_no"],
                "status": "PROCESSING",
            },
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v3/pay/transactions/native", self.native, methods=["POST"]),
                Route("/v3/refund/domestic/refunds", self.refund, methods=["POST"]),
            ]
        )

    def notification(
        self, out_trade_no: str, total: int, *, state: str = "SUCCESS", **sign: Any
    ) -> tuple[bytes, dict[str, str]]:
        """A TRANSACTION.SUCCESS notification for the merchant's notify_url."""
        resource = encrypt_resource(
            self.keys.apiv3_key.encode(),
            {
                "mchid": self.keys.mchid,
                "appid": self.keys.appid,
                "out_trade_no": out_trade_no,
                "transaction_id": f"42000{secrets.randbelow(10**12):012d}",
                "trade_type": "NATIVE",
                "trade_state": state,
                "amount": {"total": total, "payer_total": total, "currency": "CNY"},
            },
            "transaction",
        )
        body = json.dumps(
            {
                "id": secrets.token_hex(8),
                "create_time": "2026-12-01T20:00:00+08:00",
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS" if state == "SUCCESS" else "TRANSACTION.CLOSED",
                "summary": "支付成功",
                "resource": resource,
            }
        ).encode()
        return body, {"Content-Type": "application/json", **self.sign_headers(body, **sign)}


def tamper_ciphertext(body: bytes) -> bytes:
    data = json.loads(body)
    raw = bytearray(base64.b64decode(data["resource"]["ciphertext"]))
    raw[0] ^= 1
    data["resource"]["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    return json.dumps(data).encode()
