"""The demo looks like a real base (issue 18 items 18, 19): pictures drawn per product
kind, a live show on air with a link explained, an upcoming one with none explained."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageChops
from sqlalchemy import select

from livebase.catalog.models import Product
from livebase.demo import LIVE_TITLE, SHOW_TITLE, load_demo
from livebase.demo_pictures import product_picture, show_cover
from livebase.runtime import Runtime
from livebase.shows.models import Show


def _silhouette(data: bytes) -> tuple[float, float]:
    """(height / width of the drawn object, share of the frame it covers): what differs
    from the studio background by more than a soft shadow."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    background = Image.new("RGB", img.size, img.getpixel((5, 5)))
    diff = ImageChops.difference(img, background).convert("L").point(lambda v: 255 if v > 40 else 0)
    box = diff.getbbox()
    assert box is not None, "nothing is drawn"
    x0, y0, x1, y1 = box
    covered = diff.histogram()[255] / (img.width * img.height)
    return (y1 - y0) / (x1 - x0), covered


def test_demo_pictures_have_the_shape_of_what_they_stand_for() -> None:
    jar, jar_cover = _silhouette(product_picture("老北京炸酱面酱", "京味斋"))
    box, _ = _silhouette(product_picture("京味斋 北京烤鸭礼盒", "京味斋"))
    dropper, _ = _silhouette(product_picture("韩国进口 精华液 30ml", "颐和美妆"))
    scarf, _ = _silhouette(product_picture("羊毛混纺围巾", "燕山织造", "灰"))
    assert jar > 1.3 and dropper > 1.5  # bottles and jars stand tall
    assert box < 0.9  # a gift box is wider than high
    assert scarf > 1.0  # a long scarf hangs down
    assert jar_cover > 0.1  # the product fills the shot, not a small disc
    red = Image.open(io.BytesIO(product_picture("桑蚕丝方巾 90×90", "燕山织造", "胭脂红")))
    blue = Image.open(io.BytesIO(product_picture("桑蚕丝方巾 90×90", "燕山织造", "黛青")))
    r, g, b = red.convert("RGB").getpixel((400, 300))
    assert r > g + 60 and r > b + 40  # the 胭脂红 variant is red
    assert red.tobytes() != blue.tobytes()


def test_a_show_cover_is_a_16_by_9_jpeg() -> None:
    cover = Image.open(io.BytesIO(show_cover("双十二专场", [("老北京炸酱面酱", "京味斋", None)])))
    assert cover.format == "JPEG" and cover.size == (1280, 720)


def test_the_demo_has_a_live_show_explaining_and_an_upcoming_one_not(
    rt: Runtime, tmp_path: Path
) -> None:
    with rt.sessions() as db, db.begin():
        load_demo(db, tmp_path)
    with rt.sessions() as db:
        upcoming = db.scalar(select(Show).where(Show.title == SHOW_TITLE))
        live = db.scalar(select(Show).where(Show.title == LIVE_TITLE))
        assert upcoming is not None and live is not None
        assert upcoming.status == "scheduled" and upcoming.explaining_no is None
        assert live.status == "live" and live.explaining_no == 1 and live.shelf
        assert upcoming.cover_path and live.cover_path
        products = db.scalars(select(Product)).all()
        assert products and all(p.images for p in products)
        total = sum((tmp_path / i.path).stat().st_size for p in products for i in p.images)
        assert total < 20 * 200_000  # JPEG shots of a few tens of kB each


def test_the_demo_live_show_has_an_open_flash_sale_and_a_coupon_once(
    rt: Runtime, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from livebase.accounts.service import do_issue_token, user_by_username
    from livebase.app import create_app
    from livebase.demo import COUPON_UNITS, SALE_UNITS
    from livebase.orders.models import Coupon, FlashSale

    for _ in range(2):  # idempotent: a second run adds nothing
        with rt.sessions() as db, db.begin():
            summary = load_demo(db)
    with rt.sessions() as db:
        live = db.scalar(select(Show).where(Show.title == LIVE_TITLE))
        assert live is not None
        (sale,) = db.scalars(select(FlashSale).where(FlashSale.show_id == live.id)).all()
        (coupon,) = db.scalars(select(Coupon).where(Coupon.show_id == live.id)).all()
        assert sale.status == "open" and sale.remaining == sale.quantity == SALE_UNITS
        assert sale.sku_id == min(live.shelf, key=lambda i: i.no).sku_id
        assert coupon.remaining == COUPON_UNITS and coupon.kind == "amount"
        assert f"flash sale {sale.id} (open)" in summary
        viewer = user_by_username(db, "viewer")
        assert viewer is not None
    with rt.sessions() as db, db.begin():
        token, _ = do_issue_token(db, viewer, kind="api", ttl_seconds=600)
    auth = {"Authorization": f"Bearer {token}"}
    # The newcomer's try, as the `viewer` account: an address, a claim, an order.
    with TestClient(create_app(runtime=rt)) as client:
        r = client.post(
            "/api/v1/addresses",
            json={
                "name": "小林",
                "phone": "13800000000",
                "province": "北京市",
                "city": "北京市",
                "district": "朝阳区",
                "detail": "建国路 88 号",
            },
            headers=auth,
        )
        assert r.status_code == 201, r.text
        r = client.post(
            f"/api/v1/flash-sales/{sale.id}/orders",
            json={"quantity": 1, "address_id": r.json()["id"]},
            headers={**auth, "Idempotency-Key": "demo-try"},
        )
        assert r.status_code == 201, r.text
        r = client.post(
            f"/api/v1/coupons/{coupon.id}/claims", headers={**auth, "Idempotency-Key": "demo-c"}
        )
        assert r.status_code == 201, r.text
