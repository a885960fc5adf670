"""Identities: GB 11643 rules one vector each, sealed at rest, masked in answers, never
in a log line."""

from __future__ import annotations

from datetime import date

import pytest
import structlog.testing
from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.bonded import idcard
from livebase.bonded.models import Identity
from livebase.bonded.vault import IdVault, Sealed, VaultError, parse_keys
from livebase.runtime import Runtime
from tests.bonded.helpers import ID_BUYER, ID_OTHER
from tests.conftest import World

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("110105491231002", "length"),  # a 15-digit first-generation number
        ("1101051949123100", "length"),  # 16 characters
        ("11010519491231002X1", "length"),
        ("1101051949123A002X", "characters"),
        ("11010519491231002Y", "characters"),
        ("990105199001010014", "province"),  # 99 is no province (checksum valid)
        ("000105199001011230", "province"),
        ("11010519900230001X", "birth date"),  # 30 February (checksum valid)
        ("440524188001010014", "birth date"),  # GB 11643's own 1880 example: before 1900
        ("110105209912310010", "birth date"),  # 2099: in the future (checksum valid)
        ("110105194912310021", "checksum"),  # the standard's example with a wrong check
        ("110105199001011231", "checksum"),
    ],
)
def test_each_rule_refuses_its_vector_and_names_the_rule(number: str, rule: str) -> None:
    with pytest.raises(idcard.InvalidIdNumber) as info:
        idcard.parse(number, today=TODAY)
    assert info.value.rule == rule
    assert number not in info.value.detail


@pytest.mark.parametrize(
    "number",
    ["11010519491231002X", "11010519491231002x", " 110105199001011232 ", "310104198506150015"],
)
def test_valid_numbers_pass_and_lower_case_x_is_read_as_upper(number: str) -> None:
    parsed = idcard.parse(number, today=TODAY)
    assert parsed.value == number.strip().upper()
    assert len(parsed.value) == 18


def test_mask_keeps_the_division_code_and_the_last_four() -> None:
    assert idcard.mask(ID_BUYER) == "110105********002X"


def test_post_identity_answers_masked_and_stores_only_ciphertext_and_hash(
    rt: Runtime, client: TestClient, world: World
) -> None:
    with structlog.testing.capture_logs() as logs:
        r = client.post(
            "/api/v1/identities",
            json={"name": "张三", "id_number": ID_BUYER.lower()},
            headers=world["viewer"].auth,
        )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id_number_masked"] == "110105********002X"
    assert ID_BUYER not in r.text and ID_BUYER.lower() not in r.text
    assert set(body) == {"id", "name", "id_number_masked", "created_at"}
    with rt.sessions() as db:
        row = db.scalars(select(Identity)).one()
        assert ID_BUYER.encode() not in row.id_sealed
        assert ID_BUYER not in row.id_hash and row.masked == body["id_number_masked"]
    assert ID_BUYER not in str(logs) and ID_BUYER.lower() not in str(logs)
    listed = client.get("/api/v1/identities", headers=world["viewer"].auth)
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [body["id"]]
    assert ID_BUYER not in listed.text
    # another user sees none of it
    other = client.get("/api/v1/identities", headers=world["merchant_a1"].auth)
    assert other.json()["items"] == []


def test_a_refused_number_is_422_naming_the_rule_and_not_in_the_answer_or_logs(
    client: TestClient, world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    bad = "110105194912310021"
    with structlog.testing.capture_logs() as logs:
        r = client.post(
            "/api/v1/identities",
            json={"name": "张三", "id_number": bad},
            headers=world["viewer"].auth,
        )
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_id_number"
    assert "checksum" in r.json()["detail"]
    assert bad not in r.text
    assert bad not in str(logs)
    out, err = capfd.readouterr()
    assert bad not in out and bad not in err
    r = client.post(
        "/api/v1/identities",
        json={"name": "张三", "id_number": "110105491231002"},
        headers=world["viewer"].auth,
    )
    assert r.status_code == 422 and r.json()["error"] == "invalid_id_number"
    assert r.json()["detail"].startswith("length")


def test_the_same_number_twice_is_one_identity(client: TestClient, world: World) -> None:
    body = {"name": "李四", "id_number": ID_OTHER}
    a = client.post("/api/v1/identities", json=body, headers=world["viewer"].auth)
    b = client.post("/api/v1/identities", json=body, headers=world["viewer"].auth)
    assert a.json()["id"] == b.json()["id"]
    c = client.post(
        "/api/v1/identities",
        json={"name": "王五", "id_number": ID_OTHER},
        headers=world["viewer"].auth,
    )
    assert c.status_code == 409


def test_identities_need_a_signed_in_user(client: TestClient) -> None:
    r = client.post("/api/v1/identities", json={"name": "张三", "id_number": ID_BUYER})
    assert r.status_code == 401


def test_keys_rotate_old_ciphertexts_still_open_and_reencrypt_under_the_new_key() -> None:
    old = IdVault(parse_keys("k1:" + "A" * 43 + "="), b"h" * 32)
    sealed = old.seal(ID_BUYER, context="identity:u1")
    rotated = IdVault(parse_keys("k2:" + "B" * 43 + "=,k1:" + "A" * 43 + "="), b"h" * 32)
    assert rotated.open(sealed, context="identity:u1") == ID_BUYER
    again = rotated.reencrypt(sealed, context="identity:u1")
    assert again.key_id == "k2"
    assert rotated.open(again, context="identity:u1") == ID_BUYER
    assert old.lookup_hash(ID_BUYER) == rotated.lookup_hash(ID_BUYER)  # quota stays whole
    with pytest.raises(VaultError):
        old.open(again, context="identity:u1")


def test_a_ciphertext_moved_to_another_users_row_does_not_open() -> None:
    vault = IdVault(parse_keys("k1:" + "A" * 43 + "="), b"h" * 32)
    sealed = vault.seal(ID_BUYER, context="identity:u1")
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag
        vault.open(Sealed(sealed.key_id, sealed.blob), context="identity:u2")


def test_a_bad_key_setting_is_refused() -> None:
    with pytest.raises(VaultError):
        parse_keys("k1:short")
    with pytest.raises(VaultError):
        parse_keys("nokey")
