"""Typed settings read from ``LIVEBASE_*`` environment variables.

Settings are loud: outside demo mode a default or short secret stops start-up with a
message that says what to set. URLs take the plain forms users know
(``postgresql://user@host/db``, ``sqlite:///file.db``); the driver is chosen here.
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The value a fresh checkout runs with in demo mode. Production refuses it.
DEMO_SECRET = "livebase-demo-secret-not-for-production"
# 32 characters of entropy is the shortest secret we accept for HMAC keys.
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """A setting is missing or unsafe; the message names the variable to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIVEBASE_", extra="ignore")

    demo: bool = False
    data_dir: Path = Path("./var")
    database_url: str = ""
    redis_url: str = ""
    secret_key: str = DEMO_SECRET
    public_url: str = "http://127.0.0.1:8000"
    rtmp_url: str = ""
    hls_url: str = ""
    media_http_port: int = 8080
    # Video (DESIGN §8, docs/media.md). nginx-rtmp listens for publishers on rtmp_port; it
    # calls the app back at media_callback_url (default LIVEBASE_PUBLIC_URL) with
    # media_secret in the URL (empty: one derived from LIVEBASE_SECRET_KEY). The app reads
    # /stat and /control at media_control_url (default http://127.0.0.1:<media HTTP port>).
    rtmp_port: int = Field(default=1935, ge=1, le=65535)
    media_secret: str = ""
    # Where HLS, recordings and replays live (default LIVEBASE_DATA_DIR/media).
    media_path: Path | None = None
    media_callback_url: str = ""
    media_control_url: str = ""
    # HLS fragment and playlist length in seconds: 1 s fragments need a 1 s keyframe
    # interval at the encoder and give ~2.5 s from push to screen.
    hls_fragment_seconds: int = Field(default=1, ge=1, le=10)
    hls_playlist_seconds: int = Field(default=4, ge=2, le=60)
    # The optional ABR ladder (source + 480p + 360p through ffmpeg; ~36% of a core each).
    media_ladder: bool = False
    # After a publisher drops, a reconnect within this many seconds continues the show.
    media_grace_seconds: int = Field(default=20, ge=0, le=3600)
    # A frame of each live stream is read (Tesseract) and checked as a listing this often;
    # 0 turns the check off.
    media_frame_check_seconds: int = Field(default=30, ge=0, le=3600)
    nginx_bin: str = "nginx"
    rtmp_module: str = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
    ffmpeg_bin: str = "ffmpeg"
    ffprobe_bin: str = "ffprobe"
    log_level: str = "INFO"
    log_json: bool = True

    # Login attempts per account in the window; the per-address limit is four times it,
    # because one office or campus NAT address legitimately carries many users.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    signups_per_hour: int = Field(default=20, ge=1)
    moderation_checks_per_minute: int = Field(default=120, ge=1)
    room_history: int = Field(default=1000, ge=1)
    # The room's tick (DESIGN §7: 100-500 ms): state is coalesced and chat packed per tick.
    # 100 ms keeps chat and counters feeling instant; at 10 frames/s per room the encode
    # cost is per room, not per viewer (docs/realtime.md).
    room_tick_ms: int = Field(default=100, ge=100, le=500)
    # Frames a connection may have waiting before it is "too slow": non-critical ones are
    # shed past it, a critical backlog past it closes the socket with 4408.
    room_queue: int = Field(default=256, ge=8, le=65536)
    # Bytes a raw transport may hold unsent before its connection counts as backed up.
    room_write_buffer: int = Field(default=256 * 1024, ge=16 * 1024)
    # Chat: a line is at most this many characters; a user sends at most room_chat_rate
    # lines per room_chat_window seconds (a person types a line every few seconds).
    room_chat_max_len: int = Field(default=200, ge=1, le=2000)
    room_chat_rate: int = Field(default=5, ge=1)
    room_chat_window: int = Field(default=10, ge=1)
    # What a buyer has to pay an order within (DESIGN: flash sales 15 min by default).
    pay_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # A shipped order completes this many days after shipment unless its buyer confirms
    # receipt sooner (Taobao's and JD's default is 10); a completed order takes refund
    # requests for LIVEBASE_AFTER_SALE_DAYS more (docs/orders.md "Completed").
    auto_complete_days: int = Field(default=10, ge=1, le=90)
    after_sale_days: int = Field(default=15, ge=0, le=365)

    # Bearer tokens live 30 days (a host's streaming laptop stays signed in for a season);
    # cookie sessions 14 days, renewed by signing in again.
    token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    session_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)

    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated
    # addresses or networks, as uvicorn's forwarded_allow_ips takes them). None by default:
    # trusting 127.0.0.1 would let any local process pick its own address and dodge the
    # per-address sign-in limit.
    trusted_proxies: str = ""

    # Requests that may hold a database session at once, per process; the pool has a
    # connection for each (plus a reserve for jobs and probes). Beyond them up to
    # db_queue requests wait, each at most db_queue_timeout seconds, for a slot; the rest
    # are refused with 503 overloaded at once. Why: docs/http.md "Under load".
    db_concurrency: int = Field(default=16, ge=1, le=256)
    db_queue: int = Field(default=256, ge=0)
    db_queue_timeout: float = Field(default=2.0, gt=0, le=60)

    json_body_limit: int = 1024 * 1024
    upload_limit: int = 10 * 1024 * 1024

    # Run timed jobs inside the serve process (embedded mode). Production sets it false
    # and runs ``livebase worker`` processes instead.
    run_jobs_in_process: bool = True

    # Freeze what start-up made and collect young objects less often (livebase.gcpolicy).
    # ``livebase serve`` turns it on unless LIVEBASE_GC_TUNING says otherwise; apps built
    # in tests leave the collector as it is.
    gc_tuning: bool = False

    # The flash-sale benchmark's extra routes (a no-op endpoint and the one-transaction-
    # per-order baselines); never on in production.
    bench_routes: bool = False

    # Payments (docs/payments.md). The sandbox signs its callbacks with this secret; empty
    # means one derived from LIVEBASE_SECRET_KEY (``sandbox_secret``), so a fresh install
    # has a working sandbox and no second secret to keep.
    payments_sandbox_secret: str = ""
    # WeChat Pay v3: all of mchid, serial_no, private key, APIv3 key and at least one
    # platform certificate, or none (then the wechat provider is not offered).
    wechatpay_mchid: str = ""
    wechatpay_appid: str = ""
    wechatpay_serial_no: str = ""  # the merchant API certificate's serial number
    wechatpay_private_key_path: Path | None = None  # apiclient_key.pem
    wechatpay_apiv3_key: str = ""  # 32 bytes, set in the merchant platform
    # Platform certificates (PEM files, comma-separated), as `wechatpay_platform_certs`.
    wechatpay_platform_cert_paths: str = ""
    wechatpay_base_url: str = "https://api.mch.weixin.qq.com"
    # "native" (a QR code for the buyer to scan) or "jsapi" (inside WeChat, needs openid).
    wechatpay_mode: str = Field(default="native", pattern="^(native|jsapi)$")

    # Bonded goods (docs/bonded.md). Identity numbers are sealed with AES-256-GCM under
    # these keys ("kid:base64key,...", the first encrypts; empty: one derived from
    # LIVEBASE_SECRET_KEY) and found by an HMAC under the hash key (empty: derived).
    bonded_id_keys: str = ""
    bonded_hash_key: str = ""
    # The customs submitter: "sandbox" (in-process customs answering on a schedule) or
    # "chinaport" (the 单一窗口 shape; needs a customs key device to sign).
    bonded_customs: str = Field(default="sandbox", pattern="^(sandbox|chinaport)$")
    # Seconds the sandbox customs waits before each receipt (tests set 0).
    bonded_sandbox_delay_seconds: float = Field(default=2.0, ge=0)
    # How long a pickup code is good for after release (hours).
    bonded_pickup_code_hours: int = Field(default=72, ge=1)
    # The platform's customs registration (单一窗口 备案): its 10-character code and name,
    # written as the e-commerce platform, seller, declaring agent and sender of messages.
    bonded_company_code: str = Field(default="1101960000", min_length=10, max_length=18)
    bonded_company_name: str = "livebase 直播基地"

    @field_validator("log_level")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()

    @cached_property
    def sqlalchemy_url(self) -> str:
        return normalise_database_url(self.database_url, self.data_dir)

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def pay_window(self) -> timedelta:
        return timedelta(minutes=self.pay_window_minutes)

    @property
    def sandbox_secret(self) -> bytes:
        """The sandbox provider's HMAC key: LIVEBASE_PAYMENTS_SANDBOX_SECRET, or one derived
        from the secret key (a separate purpose, so neither key reveals the other)."""
        if self.payments_sandbox_secret:
            return self.payments_sandbox_secret.encode()
        return hmac.new(self.secret_key.encode(), b"livebase:payments:sandbox", "sha256").digest()

    @property
    def effective_media_secret(self) -> str:
        """The secret nginx-rtmp's callbacks carry in their URL (hex, URL-safe)."""
        if self.media_secret:
            return self.media_secret
        return hmac.new(self.secret_key.encode(), b"livebase:media:callbacks", "sha256").hexdigest()

    @property
    def media_dir(self) -> Path:
        return self.media_path or self.data_dir / "media"

    @property
    def effective_media_callback_url(self) -> str:
        return (self.media_callback_url or self.public_url).rstrip("/")

    @property
    def effective_media_control_url(self) -> str:
        if self.media_control_url:
            return self.media_control_url.rstrip("/")
        return f"http://127.0.0.1:{self.media_http_port}"

    @property
    def wechatpay_configured(self) -> bool:
        return bool(self.wechatpay_mchid)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def effective_rtmp_url(self) -> str:
        if self.rtmp_url:
            return self.rtmp_url.rstrip("/")
        return f"rtmp://{_host_of(self.public_url)}:{self.rtmp_port}/live"

    @property
    def effective_hls_url(self) -> str:
        if self.hls_url:
            return self.hls_url.rstrip("/")
        return f"http://{_host_of(self.public_url)}:{self.media_http_port}/hls"

    def check_production_safety(self) -> None:
        """Refuse to start outside demo mode with a default or short secret."""
        if self.demo:
            return
        if self.secret_key == DEMO_SECRET or len(self.secret_key) < MIN_SECRET_LENGTH:
            raise SettingsError(
                "LIVEBASE_SECRET_KEY must be set to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters outside demo mode "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                "or set LIVEBASE_DEMO=1 for a demo."
            )
        if self.payments_sandbox_secret and len(self.payments_sandbox_secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"LIVEBASE_PAYMENTS_SANDBOX_SECRET must be at least {MIN_SECRET_LENGTH} "
                "characters (or unset: then it is derived from LIVEBASE_SECRET_KEY)."
            )
        if self.media_secret and len(self.media_secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"LIVEBASE_MEDIA_SECRET must be at least {MIN_SECRET_LENGTH} characters "
                "(or unset: then it is derived from LIVEBASE_SECRET_KEY)."
            )
        if self.wechatpay_configured:
            self.check_wechatpay()

    def check_wechatpay(self) -> None:
        """With LIVEBASE_WECHATPAY_MCHID set, every other piece must be there too."""
        missing = [
            name
            for name, value in (
                ("LIVEBASE_WECHATPAY_APPID", self.wechatpay_appid),
                ("LIVEBASE_WECHATPAY_SERIAL_NO", self.wechatpay_serial_no),
                ("LIVEBASE_WECHATPAY_PRIVATE_KEY_PATH", self.wechatpay_private_key_path),
                ("LIVEBASE_WECHATPAY_PLATFORM_CERT_PATHS", self.wechatpay_platform_cert_paths),
            )
            if not value
        ]
        if missing:
            raise SettingsError(
                "LIVEBASE_WECHATPAY_MCHID is set, so these must be too: " + ", ".join(missing)
            )
        if len(self.wechatpay_apiv3_key.encode()) != 32:
            raise SettingsError(
                "LIVEBASE_WECHATPAY_APIV3_KEY must be the 32-character APIv3 key set in the "
                "WeChat Pay merchant platform."
            )


def _host_of(url: str) -> str:
    return urlsplit(url).hostname or "127.0.0.1"


def normalise_database_url(url: str, data_dir: Path) -> str:
    """Map the URL forms users write to SQLAlchemy URLs with our drivers."""
    if not url:
        return f"sqlite:///{(data_dir / 'livebase.db').resolve()}"
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    if url.startswith(("postgresql+", "sqlite")):
        return url
    raise SettingsError(
        f"LIVEBASE_DATABASE_URL {url.split('://')[0]}:// is not supported; "
        "use postgresql://... or sqlite:///path"
    )
