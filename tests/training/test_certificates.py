"""Certificates: numbers, masking, a record edited behind the service's back reads as not
valid, the PDF parses, and the dashboard's figure counts issued and unrevoked ones."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from livebase.db import utcnow
from livebase.features import load
from livebase.runtime import Runtime
from livebase.training import certificates as certs
from livebase.training import service
from livebase.training.models import Certificate, Enrolment
from livebase.training.pdf import certificate_pdf
from tests.conftest import SYSTEM_TESTS, World
from tests.training.kit import make_session, make_users, start_session


def test_numbers_and_masked_names() -> None:
    assert certs.format_number(2026, 123) == "LB-2026-000123"
    assert [certs.mask_name(n) for n in ("张三丰", "张三", "李", "Alice Smith")] == [
        "张*丰",
        "张*",
        "*",
        "A*********h",
    ]


def _issue(rt: Runtime, client: TestClient, world: World, n: int) -> list[Certificate]:
    c = make_session(client, world, capacity=n)
    people = make_users(rt, n)
    ids = [
        client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=p.auth).json()["id"]
        for p in people
    ]
    start_session(rt, c.session_id)
    out = []
    with rt.sessions() as db, db.begin():
        for enrolment_id in ids:
            enr = db.get(Enrolment, enrolment_id)
            assert enr is not None
            sess = service.get_session(db, enr.session_id)
            service.do_mark(db, SYSTEM_TESTS, enr, attended=True, score=80)
            out.append(certs.do_issue(db, SYSTEM_TESTS, enr, sess))
    return out


def test_an_edited_record_no_longer_matches_its_signature(
    rt: Runtime, client: TestClient, world: World
) -> None:
    (cert,) = _issue(rt, client, world, 1)
    secret = rt.settings.secret_key
    sig = certs.signature(secret, cert)
    with rt.sessions() as db:
        assert certs.verify(db, secret, cert.number, sig).status == "valid"
        # Without the QR's signature the record is shown, marked as not checked.
        plain = certs.verify(db, secret, cert.number, None)
        assert plain.status == "valid" and not plain.signature_checked
    with rt.sessions() as db, db.begin():
        db.execute(
            update(Certificate).where(Certificate.id == cert.id).values(holder_name="冒名者")
        )
    with rt.sessions() as db:
        forged = certs.verify(db, secret, cert.number, sig)
    assert (forged.status, forged.reason) == ("not_valid", "bad_signature")
    # Another secret signs differently: a certificate made on another install is not ours.
    assert certs.signature("y" * 40, cert) != sig


def _pdf(rt: Runtime, client: TestClient, world: World) -> tuple[Certificate, bytes]:
    (cert,) = _issue(rt, client, world, 1)
    url = certs.verification_url("https://base.example.cn", rt.settings.secret_key, cert)
    return cert, certificate_pdf(cert, url, "朝阳基地")


def test_the_pdf_is_a_pdf_with_the_number_in_a_cjk_font(
    rt: Runtime, client: TestClient, world: World
) -> None:
    cert, data = _pdf(rt, client, world)
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-32:]
    assert cert.number.encode() in data and b"STSong-Light" in data


def test_pdftotext_reads_the_number(
    rt: Runtime, client: TestClient, world: World, tmp_path: Path
) -> None:
    cert, data = _pdf(rt, client, world)
    path = tmp_path / "cert.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert cert.number in text


def test_certificates_issued_counts_the_interval_and_leaves_out_revoked(
    rt: Runtime, client: TestClient, world: World
) -> None:
    a, _b, c = _issue(rt, client, world, 3)
    now = utcnow()
    last_month = (now.replace(day=1) - timedelta(days=1)).replace(day=15)
    with rt.sessions() as db, db.begin():
        db.execute(update(Certificate).where(Certificate.id == a.id).values(issued_at=last_month))
        certs.do_revoke(db, SYSTEM_TESTS, db.get(Certificate, c.id), "重复发证")  # type: ignore[arg-type]
    (metric,) = [m for lf in load() for m in lf.metrics if m[0].name == "certificates_issued"]
    spec, counter, monthly = metric
    assert spec.unit == "count" and monthly is not None
    year_start = datetime(now.year - 1, 1, 1, tzinfo=UTC)
    end = now + timedelta(seconds=1)
    with rt.sessions() as db:
        assert counter(db, world.base_a, year_start, end) == 2
        assert counter(db, world.base_b, year_start, end) == 0
        this_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        assert counter(db, world.base_a, this_month, end) == 1
        months = monthly(db, world.base_a, year_start, end)
    assert sum(months.values()) == 2
    assert months[f"{now:%Y-%m}"] == 1 and months[f"{last_month:%Y-%m}"] == 1
    assert len(months) == (now.year - year_start.year) * 12 + now.month


# A small burst on the public verification (a QR code on a poster is scanned by many at
# once): every request is answered, 200 or a shed 503, never a 500 or a hang.
BURST = 40


def test_a_burst_of_verifications_is_answered(
    rt: Runtime, client: TestClient, world: World
) -> None:
    (cert,) = _issue(rt, client, world, 1)
    sig = certs.signature(rt.settings.secret_key, cert)

    def one(_: int) -> int:
        r = client.get(f"/api/v1/certificates/{cert.number}", params={"sig": sig})
        assert r.status_code in (200, 503), r.text
        return r.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(BURST)))
    assert len(statuses) == BURST and 200 in statuses
