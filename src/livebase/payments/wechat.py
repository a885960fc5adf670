"""WeChat Pay API v3 (微信支付 APIv3) behind the ``payments.Provider`` seam.

What v3 asks of a merchant, and where it is done here:

- **Requests are signed** with the merchant's API private key (RSA 2048, SHA256-RSA,
  PKCS#1 v1.5) over ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n``, sent as
  ``Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",
  timestamp="…",serial_no="…"`` (``serial_no``: the merchant certificate's serial).
- **Answers and callbacks are verified** with the WeChat Pay *platform* certificate named
  by ``Wechatpay-Serial``, over ``TIMESTAMP\\nNONCE\\nBODY\\n`` from ``Wechatpay-Timestamp``,
  ``Wechatpay-Nonce`` and ``Wechatpay-Signature`` (base64); a timestamp more than 5 min away
  is stale. An answer that fails the check is not believed (the request is retried).
- **A callback's ``resource`` is encrypted** with AEAD_AES_256_GCM under the APIv3 key
  (``nonce``, ``associated_data``, base64 ``ciphertext`` with the 16-byte tag appended).
- Orders: Native (``/v3/pay/transactions/native`` → ``code_url``, shown as a QR code) and
  JSAPI (``/v3/pay/transactions/jsapi`` with the payer's ``openid`` → ``prepay_id``, for
  which :meth:`WeChatPayProvider.jsapi_params` signs the page's ``wx.requestPayment``).
  Refunds: ``/v3/refund/domestic/refunds`` with our refund id as ``out_refund_no`` (the
  provider's idempotency key, so a retried refund is one refund).

Everything cryptographic is the ``cryptography`` package; nothing is hand-rolled.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from livebase.payments.provider import (
    TIMESTAMP_WINDOW_SECONDS,
    CallbackRefused,
    CallbackResult,
    CreatedPayment,
    PaymentRequest,
    ProviderError,
    RefundOrder,
    RefundResult,
)

NAME = "wechat"
SCHEMA = "WECHATPAY2-SHA256-RSA2048"
# WeChat's own client libraries time out at 10 s; the outbox retries what times out.
TIMEOUT_SECONDS = 10.0


class WeChatPayError(ProviderError):
    """An answer that is an error or cannot be believed (bad signature): the caller's job
    fails and is retried with backoff."""


@dataclass(frozen=True)
class MerchantConfig:
    mchid: str
    appid: str
    serial_no: str  # the merchant API certificate's serial number
    private_key: rsa.RSAPrivateKey
    apiv3_key: bytes  # 32 bytes
    platform_keys: Mapping[str, rsa.RSAPublicKey]  # platform certificate serial → key
    base_url: str = "https://api.mch.weixin.qq.com"
    mode: Literal["native", "jsapi"] = "native"


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("The WeChat Pay merchant key must be an RSA private key.")
    return key


def load_platform_certificates(pems: list[bytes]) -> dict[str, rsa.RSAPublicKey]:
    """Platform certificates by serial number (upper-case hex, as ``Wechatpay-Serial``)."""
    out: dict[str, rsa.RSAPublicKey] = {}
    for pem in pems:
        cert = x509.load_pem_x509_certificate(pem)
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("A WeChat Pay platform certificate must hold an RSA key.")
        out[format(cert.serial_number, "X")] = key
    return out


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        key.verify(base64.b64decode(signature_b64), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def authorization(
    config: MerchantConfig,
    method: str,
    path_and_query: str,
    body: str,
    *,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> str:
    ts = timestamp or str(int(time.time()))
    nonce_str = nonce or secrets.token_hex(16)
    message = f"{method}\n{path_and_query}\n{ts}\n{nonce_str}\n{body}\n".encode()
    sig = rsa_sign(config.private_key, message)
    return (
        f'{SCHEMA} mchid="{config.mchid}",nonce_str="{nonce_str}",signature="{sig}",'
        f'timestamp="{ts}",serial_no="{config.serial_no}"'
    )


def verify_signed(
    platform_keys: Mapping[str, rsa.RSAPublicKey],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
) -> str:
    """Check a platform-signed message (answer or callback); return its nonce."""
    h = {k.lower(): v for k, v in headers.items()}
    timestamp = h.get("wechatpay-timestamp", "")
    nonce = h.get("wechatpay-nonce", "")
    sig = h.get("wechatpay-signature", "")
    serial = h.get("wechatpay-serial", "")
    if not (timestamp and nonce and sig and serial):
        raise CallbackRefused("bad_signature", "Wechatpay-* signature headers are missing.")
    key = platform_keys.get(serial.upper())
    if key is None:
        raise CallbackRefused("bad_signature", f"No platform certificate with serial {serial}.")
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    if not rsa_verify(key, message, sig):
        raise CallbackRefused("bad_signature", "The Wechatpay-Signature does not match.")
    try:
        ts = int(timestamp)
    except ValueError:
        raise CallbackRefused("bad_signature", "Wechatpay-Timestamp is not unix seconds.") from None
    if abs((time.time() if now is None else now) - ts) > TIMESTAMP_WINDOW_SECONDS:
        raise CallbackRefused("stale", "The Wechatpay-Timestamp is more than 5 minutes away.")
    if len(nonce) > 64:
        raise CallbackRefused("bad_signature", "Wechatpay-Nonce is longer than 64 characters.")
    return nonce


def decrypt_resource(apiv3_key: bytes, resource: Mapping[str, Any]) -> dict[str, Any]:
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise CallbackRefused("bad_signature", "The resource is not AEAD_AES_256_GCM.")
    try:
        plain = AESGCM(apiv3_key).decrypt(
            str(resource["nonce"]).encode(),
            base64.b64decode(str(resource["ciphertext"])),
            str(resource.get("associated_data") or "").encode(),
        )
        data = json.loads(plain)
    except (InvalidTag, KeyError, ValueError):
        raise CallbackRefused("bad_signature", "The resource does not decrypt.") from None
    if not isinstance(data, dict):
        raise CallbackRefused("bad_signature", "The resource is not an object.")
    return data


def encrypt_resource(apiv3_key: bytes, data: Mapping[str, Any], associated: str) -> dict[str, str]:
    """The inverse of :func:`decrypt_resource` (what WeChat does; used by the tests'
    stand-in server and kept here so both sides share one definition of the format)."""
    nonce = secrets.token_hex(6)  # 12 characters, as WeChat sends
    ct = AESGCM(apiv3_key).encrypt(nonce.encode(), json.dumps(data).encode(), associated.encode())
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ct).decode(),
        "associated_data": associated,
        "nonce": nonce,
        "original_type": "transaction",
    }


class WeChatPayProvider:
    name = NAME

    def __init__(self, config: MerchantConfig, client: httpx.Client | None = None) -> None:
        self.config = config
        self._client = client or httpx.Client(base_url=config.base_url, timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        self._client.close()

    # --- outgoing requests ------------------------------------------------------------

    def _call(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        url = self.config.base_url.rstrip("/") + path
        target = urlsplit(url)
        path_and_query = target.path + (f"?{target.query}" if target.query else "")
        headers = {
            "Authorization": authorization(self.config, method, path_and_query, body),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "livebase",
        }
        try:
            r = self._client.request(method, url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise WeChatPayError(f"WeChat Pay did not answer {path}: {exc!r}") from exc
        try:
            verify_signed(self.config.platform_keys, r.headers, r.content)
        except CallbackRefused as exc:
            raise WeChatPayError(f"WeChat Pay's answer to {path} is not believed: {exc}") from exc
        if r.status_code >= 300:
            raise WeChatPayError(f"WeChat Pay answered {path} with {r.status_code}: {r.text}")
        data = r.json() if r.content else {}
        return data if isinstance(data, dict) else {}

    def create_payment(self, request: PaymentRequest) -> CreatedPayment:
        payload: dict[str, Any] = {
            "appid": self.config.appid,
            "mchid": self.config.mchid,
            "description": request.description[:127],
            "out_trade_no": request.payment_id,
            "notify_url": request.notify_url,
            "amount": {"total": request.amount_fen, "currency": "CNY"},
        }
        if self.config.mode == "jsapi":
            if not request.payer_openid:
                raise WeChatPayError("JSAPI payments need the payer's openid.")
            payload["payer"] = {"openid": request.payer_openid}
            data = self._call("POST", "/v3/pay/transactions/jsapi", payload)
            prepay_id = str(data["prepay_id"])
            return CreatedPayment(pay_url=f"prepay_id={prepay_id}", provider_ref=prepay_id)
        data = self._call("POST", "/v3/pay/transactions/native", payload)
        code_url = str(data["code_url"])
        return CreatedPayment(pay_url=code_url, provider_ref=None)

    def jsapi_params(self, prepay_id: str) -> dict[str, str]:
        """What the JSAPI page passes to ``wx.requestPayment`` (signed with the merchant
        key over appId, timeStamp, nonceStr and package)."""
        ts = str(int(time.time()))
        nonce = secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        message = f"{self.config.appid}\n{ts}\n{nonce}\n{package}\n".encode()
        return {
            "appId": self.config.appid,
            "timeStamp": ts,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": rsa_sign(self.config.private_key, message),
        }

    def refund(self, request: RefundOrder) -> RefundResult:
        data = self._call(
            "POST",
            "/v3/refund/domestic/refunds",
            {
                "out_trade_no": request.payment_id,
                "out_refund_no": request.refund_id,
                "reason": request.reason[:80],
                "amount": {
                    "refund": request.amount_fen,
                    "total": request.total_fen,
                    "currency": "CNY",
                },
            },
        )
        # PROCESSING: accepted, the money moves within minutes; both mean "acknowledged".
        accepted = data.get("status") in ("SUCCESS", "PROCESSING")
        return RefundResult(accepted=accepted, provider_ref=data.get("refund_id"))

    # --- incoming callbacks -----------------------------------------------------------

    def verify_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackResult:
        nonce = verify_signed(self.config.platform_keys, headers, body)
        try:
            envelope = json.loads(body)
            resource = envelope["resource"]
            event_type = str(envelope.get("event_type", ""))
        except (ValueError, KeyError, TypeError):
            raise CallbackRefused(
                "bad_signature", "The callback is not a v3 notification."
            ) from None
        if not isinstance(resource, dict):
            raise CallbackRefused("bad_signature", "The callback's resource is not an object.")
        data = decrypt_resource(self.config.apiv3_key, resource)
        try:
            payment_id = str(data["out_trade_no"])
            amount = data["amount"]["total"]
            state = str(data.get("trade_state", ""))
        except (KeyError, TypeError):
            raise CallbackRefused("bad_signature", "The resource is not a transaction.") from None
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise CallbackRefused("bad_signature", "amount.total is not an integer.")
        ok = event_type == "TRANSACTION.SUCCESS" and state == "SUCCESS"
        return CallbackResult(
            payment_id=payment_id,
            provider_ref=str(data["transaction_id"]) if data.get("transaction_id") else None,
            amount_fen=amount,
            outcome="succeeded" if ok else "failed",
            nonce=nonce,
        )
