"""Text inside pictures: Tesseract reads a generated image, the job holds the picture
(not the product) for review, and the moderator's decision shows or keeps it hidden."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw, ImageFont

from livebase.compliance import check, ocr
from livebase.jobs import service as jobs
from livebase.runtime import Runtime
from tests.compliance.test_queue_api import _login
from tests.conftest import World, product_body

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr")
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def picture(text: str, size: tuple[int, int] = (900, 220)) -> bytes:
    img = Image.new("RGB", size, "white")
    font = ImageFont.truetype(str(FONT), 72) if FONT.exists() else ImageFont.load_default(72)
    ImageDraw.Draw(img).text((40, 60), text, fill="black", font=font)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_tesseract_reads_chinese_and_latin_from_a_generated_picture(tmp_path: Path) -> None:
    path = tmp_path / "ad.png"
    path.write_bytes(picture("加V: abc123"))
    text = ocr.read_text(path)
    assert "abc123" in text.replace(" ", "")
    assert "加" in text
    assert not check("listing", text).allowed


def test_a_clean_picture_reads_clean(tmp_path: Path) -> None:
    path = tmp_path / "ok.png"
    path.write_bytes(picture("纯棉短袖 夏季新款"))
    text = ocr.read_text(path)
    assert "纯棉" in text
    assert check("listing", text).allowed


def _upload(client: TestClient, world: World, data: bytes) -> tuple[str, str]:
    auth = world["merchant_a1"].auth
    r = client.post(
        "/api/v1/products", headers=auth, json=product_body(world.brand_a1, title="夏季纯棉短袖")
    )
    assert r.status_code == 201, r.text
    product_id = r.json()["id"]
    r = client.post(
        f"/api/v1/products/{product_id}/images",
        headers=auth,
        files={"file": ("a.png", data, "image/png")},
    )
    assert r.status_code == 201, r.text
    return product_id, r.json()["id"]


def test_a_picture_with_contact_text_is_held_alone_and_queued_with_its_text(
    client: TestClient, world: World, rt: Runtime
) -> None:
    product_id, image_id = _upload(client, world, picture("加V: abc123"))
    public = client.get(f"/api/v1/products/{product_id}").json()
    assert [i["id"] for i in public["images"]] == [image_id]  # unchecked: shown
    assert jobs.run_due(rt.sessions, rt.jobs) >= 1  # the OCR job, after the upload committed
    public = client.get(f"/api/v1/products/{product_id}").json()
    assert public["status"] == "active"  # the product stays on sale
    assert public["images"] == []  # its picture is held
    queue = client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()["items"]
    [item] = [i for i in queue if i["subject_type"] == "product_image"]
    assert item["subject_id"] == image_id
    assert item["kind"] == "listing"
    assert "abc123" in item["text"].replace(" ", "")
    assert item["image_url"].startswith(f"/uploads/products/{product_id}/")
    # The merchant who uploaded it cannot decide it.
    r = client.post(
        f"/api/v1/moderation/items/{item['id']}/approve", headers=world["merchant_a1"].auth
    )
    assert r.status_code == 403
    # The queue page shows the picture beside the recognised text.
    _login(client, "mod_a")
    html = client.get("/moderation").text
    assert 'data-testid="held-image"' in html and item["image_url"] in html
    client.cookies.clear()
    r = client.post(f"/api/v1/moderation/items/{item['id']}/approve", headers=world["mod_a"].auth)
    assert r.status_code == 200, r.text
    public = client.get(f"/api/v1/products/{product_id}").json()
    assert [i["id"] for i in public["images"]] == [image_id]


def test_a_rejected_picture_stays_hidden_and_a_clean_one_is_shown(
    client: TestClient, world: World, rt: Runtime
) -> None:
    product_id, _held_id = _upload(client, world, picture("加V: abc123"))
    other_product, clean_id = _upload(client, world, picture("纯棉短袖 夏季新款"))
    jobs.run_due(rt.sessions, rt.jobs)
    queue = client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()["items"]
    [item] = [i for i in queue if i["subject_type"] == "product_image"]
    r = client.post(
        f"/api/v1/moderation/items/{item['id']}/reject",
        headers=world["mod_a"].auth,
        json={"reason": "图片里有联系方式"},
    )
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/products/{product_id}").json()["images"] == []
    assert [i["id"] for i in client.get(f"/api/v1/products/{other_product}").json()["images"]] == [
        clean_id
    ]


def test_a_cover_with_contact_text_is_held_and_the_show_keeps_going(
    client: TestClient, world: World, rt: Runtime
) -> None:
    from datetime import UTC, datetime, timedelta

    host = world["host_a1"].auth
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = client.post(
        "/api/v1/shows",
        headers=host,
        json={"org_id": world.brand_a1, "title": "夏装专场", "scheduled_at": when},
    )
    assert r.status_code == 201, r.text
    show_id = r.json()["id"]
    r = client.post(
        f"/api/v1/shows/{show_id}/cover",
        headers=host,
        files={"file": ("c.png", picture("加V: abc123"), "image/png")},
    )
    assert r.status_code == 201, r.text
    assert client.get(f"/api/v1/shows/{show_id}").json()["cover_url"] is not None  # unchecked
    jobs.run_due(rt.sessions, rt.jobs)
    show = client.get(f"/api/v1/shows/{show_id}").json()
    assert show["cover_url"] is None and show["status"] == "scheduled"
    queue = client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()["items"]
    [item] = [i for i in queue if i["subject_type"] == "show_cover"]
    assert item["subject_id"] == show_id and item["image_url"].startswith(
        f"/uploads/shows/{show_id}/"
    )
    r = client.post(f"/api/v1/moderation/items/{item['id']}/approve", headers=world["mod_a"].auth)
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/shows/{show_id}").json()["cover_url"] == item["image_url"]
