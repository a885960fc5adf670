"""Demo data: a Beijing district's base with the targets of the plan livebase was born
from, three brands, an agency, two hosts, twenty products and a scheduled show.

Idempotent: running it again finds what exists by name and adds nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_DEMO
from livebase.accounts.service import do_grant, do_register, user_by_username
from livebase.bases import service as bases
from livebase.bases.models import LiveBase, Organisation
from livebase.campaigns.demo import load_campaigns_demo
from livebase.catalog import service as catalog
from livebase.catalog.models import Product
from livebase.db import new_id, utcnow
from livebase.demo_pictures import product_picture, show_cover
from livebase.incubation.demo import load_demo_incubation
from livebase.orders import coupons, flash
from livebase.orders.models import Coupon, FlashSale
from livebase.shows import service as shows
from livebase.shows.models import Show
from livebase.studios.demo import load_studios_demo
from livebase.training import demo as training_demo
from livebase.uploads.images import store_image
from livebase.web.forms import PAGE_TZ

DEMO_PASSWORD = "livebase-demo"
BASE_NAME = "北京朝阳直播电商基地"

# The 2022 plan (《北京市数字消费能级提升工作方案》) for 2025: live-commerce GMV doubles from
# the 2022 level, 40 new consumer brands incubated, bases in 2–3 districts. A district base's
# share is our assumption for the demo: a 2022 GMV of ¥5 bn doubling to ¥10 bn, half of the
# city's 40 brands, 10 of them launched through the base, and 3,000 shows a year. The brand
# targets run on past the plan's 2025 (2025–2027), as a base that keeps going sets them, so
# the demo's brands, incubated as it loads, count toward a period that includes today.
TARGETS = [
    ("gmv_fen", "2025", 10_000_000_000 * 100, 7_200_000_000 * 100),
    ("brands_incubated", "2025-2027", 20, 0),
    ("new_brands_launched", "2025-2027", 10, 4),
    ("shows_held", "2026", 3000, 0),
]

ACCOUNTS = [  # username, display name, role, scope
    ("admin", "平台管理员", "admin", None),
    ("operator", "基地运营 王敏", "operator", "base"),
    ("moderator", "审核员 李静", "moderator", "base"),
    ("jingwei", "京味斋 商家", "merchant", "京味斋"),
    ("yanshan", "燕山织造 商家", "merchant", "燕山织造"),
    ("yihe", "颐和美妆 商家", "merchant", "颐和美妆"),
    ("xinghe", "星河传媒 运营", "agency", "星河传媒"),
    ("xiaoya", "主播 小雅", "host", "星河传媒"),
    ("ajie", "主播 阿杰", "host", "颐和美妆"),
    ("clerk", "提货柜台 张师傅", "clerk", "counter"),
    ("viewer", "观众 小林", None, None),
]

ORGS = [
    ("brand", "京味斋", "老北京风味糕点与礼盒，前门老字号工艺。", True),
    ("brand", "燕山织造", "北京本土面料与服饰品牌，主打桑蚕丝与羊绒。", True),
    ("brand", "颐和美妆", "护肤品牌，兼营保税仓进口美妆。", False),
    ("agency", "星河传媒", "直播机构（MCN），签约主播十余位。", False),
]

# (brand, title, description, [(attrs, price_fen, stock)], cross_border)
PRODUCTS: list[tuple[str, str, str, list[tuple[dict[str, str], int, int]], bool]] = [
    (
        "京味斋",
        "京味斋 北京烤鸭礼盒",
        "整只果木烤鸭，配荷叶饼、甜面酱，真空包装冷链发货。",
        [({"规格": "1只装"}, 16800, 300), ({"规格": "2只装"}, 31800, 120)],
        False,
    ),
    (
        "京味斋",
        "驴打滚 豆香糯米卷",
        "黄豆面裹红豆沙，每盒八枚，冷藏保存三天。",
        [({"规格": "8枚"}, 3900, 800)],
        False,
    ),
    (
        "京味斋",
        "茯苓夹饼 传统糕点",
        "薄饼夹蜂蜜核桃馅，独立小包装，适合送礼。",
        [({"口味": "蜂蜜核桃"}, 4500, 600), ({"口味": "桂花"}, 4500, 500)],
        False,
    ),
    (
        "京味斋",
        "老北京炸酱面酱",
        "干黄酱与甜面酱调制，每瓶可拌面十余碗。",
        [({"规格": "300g"}, 2590, 1000), ({"规格": "300g×3"}, 6900, 400)],
        False,
    ),
    (
        "京味斋",
        "冰糖葫芦 冻干山楂",
        "山楂冻干后裹冰糖，常温保存，开袋即食。",
        [({"规格": "200g"}, 2990, 900)],
        False,
    ),
    (
        "京味斋",
        "京八件 糕点礼盒",
        "八种京式糕点一盒，过年走亲访友的老礼数。",
        [({"规格": "8块装"}, 8800, 260)],
        False,
    ),
    (
        "京味斋",
        "稻香桂花糕",
        "桂花糯米糕，甜度适中，冷藏风味更好。",
        [({"规格": "6块"}, 2800, 700)],
        False,
    ),
    (
        "燕山织造",
        "桑蚕丝方巾 90×90",
        "100%桑蚕丝，双面印花，手工卷边。",
        [({"颜色": "胭脂红"}, 39900, 80), ({"颜色": "黛青"}, 39900, 60)],
        False,
    ),
    (
        "燕山织造",
        "纯棉圆领T恤",
        "100%纯棉，240g重磅面料，洗后不易变形。",
        [
            ({"颜色": "白", "尺码": "M"}, 9900, 200),
            ({"颜色": "白", "尺码": "L"}, 9900, 200),
            ({"颜色": "黑", "尺码": "M"}, 9900, 180),
            ({"颜色": "黑", "尺码": "L"}, 9900, 180),
        ],
        False,
    ),
    (
        "燕山织造",
        "山羊绒圆领毛衣",
        "内蒙古山羊绒，细腻柔软，秋冬贴身穿着。",
        [({"颜色": "驼色", "尺码": "M"}, 89900, 50), ({"颜色": "驼色", "尺码": "L"}, 89900, 50)],
        False,
    ),
    (
        "燕山织造",
        "真丝睡衣套装",
        "19姆米真丝，长袖长裤两件套。",
        [({"颜色": "香槟", "尺码": "M"}, 69900, 40), ({"颜色": "香槟", "尺码": "L"}, 69900, 40)],
        False,
    ),
    (
        "燕山织造",
        "亚麻休闲衬衫",
        "法国亚麻纱线，透气，适合春夏。",
        [({"颜色": "米白", "尺码": "M"}, 29900, 90), ({"颜色": "米白", "尺码": "L"}, 29900, 90)],
        False,
    ),
    (
        "燕山织造",
        "羊毛混纺围巾",
        "羊毛与莫代尔混纺，长180厘米。",
        [({"颜色": "灰"}, 15900, 150), ({"颜色": "酒红"}, 15900, 150)],
        False,
    ),
    (
        "燕山织造",
        "帆布托特包",
        "12安帆布，内有拉链袋，可放下14寸笔记本电脑。",
        [({"颜色": "原色"}, 12900, 300)],
        False,
    ),
    (
        "颐和美妆",
        "玻尿酸补水面膜 10片",
        "每片25毫升精华液，适合干性与混合性肌肤。",
        [({"规格": "10片"}, 9900, 1000)],
        False,
    ),
    (
        "颐和美妆",
        "氨基酸温和洁面乳",
        "氨基酸表活，洗后不紧绷，120克。",
        [({"规格": "120g"}, 6900, 800)],
        False,
    ),
    (
        "颐和美妆",
        "清爽防晒乳 SPF50+ PA++++",
        "轻薄质地，通勤与户外使用，50毫升。",
        [({"规格": "50ml"}, 12900, 600)],
        False,
    ),
    (
        "颐和美妆",
        "护手霜三支装",
        "乳木果、玫瑰、白茶三种香型，每支30克。",
        [({"规格": "30g×3"}, 5900, 900)],
        False,
    ),
    (
        "颐和美妆",
        "日本进口 保湿面霜 50g",
        "保税仓发货，支持即买即提；原装进口，中文背标。",
        [({"规格": "50g"}, 32000, 200)],
        True,
    ),
    (
        "颐和美妆",
        "韩国进口 精华液 30ml",
        "保税仓发货，支持即买即提；原装进口，中文背标。",
        [({"规格": "30ml"}, 26800, 200)],
        True,
    ),
]

SHOW_TITLE = "双十二 京味好物与冬季穿搭专场"
LIVE_TITLE = "颐和美妆 冬季护肤直播间"
# The live show's flash sale (秒杀) and coupon, so a newcomer signed in as `viewer` has
# something to grab: a long window and a few hundred units; opened at once.
SALE_UNITS = 300
SALE_PER_BUYER = 2
SALE_PRICE_FEN = 4900
DEMO_WINDOW = timedelta(days=30)
COUPON_UNITS = 500
COUPON_OFF_FEN = 1000
COUPON_MIN_SPEND_FEN = 5000


def _tomorrow_evening() -> datetime:
    """20:00 Beijing time tomorrow: when an evening show starts, whenever the demo loads."""
    local = utcnow().astimezone(PAGE_TZ) + timedelta(days=1)
    return local.replace(hour=20, minute=0, second=0, microsecond=0).astimezone(UTC)


def _user(db: Session, username: str, display: str):  # type: ignore[no-untyped-def]
    return user_by_username(db, username) or do_register(db, username, DEMO_PASSWORD, display)


def _picture_for_product(db: Session, product: Product, brand: str, uploads_dir: Path) -> None:
    colour = next((s.attrs["颜色"] for s in product.skus if "颜色" in s.attrs), None)
    image_id = new_id("img")
    stored = store_image(
        product_picture(product.title, brand, colour),
        uploads_dir,
        f"products/{product.id}",
        image_id,
        limit=10 * 1024 * 1024,
    )
    catalog.do_add_image(db, SYSTEM_DEMO, product, stored, image_id)


def _cover_for_show(db: Session, show: Show, picks: list[Product], uploads_dir: Path) -> None:
    brands = {o.id: o.name for o in db.scalars(select(Organisation))}
    drawn = [(p.title, brands.get(p.org_id, ""), None) for p in picks]
    cover = store_image(
        show_cover(show.title, drawn),
        uploads_dir,
        f"shows/{show.id}",
        new_id("cov"),
        limit=10 * 1024 * 1024,
    )
    shows.do_set_cover(db, SYSTEM_DEMO, show, cover.path)


def load_demo(db: Session, uploads_dir: Path | None = None) -> str:
    base = db.scalar(select(LiveBase).where(LiveBase.name == BASE_NAME))
    if base is None:
        base = bases.do_create_base(
            db,
            SYSTEM_DEMO,
            BASE_NAME,
            "朝阳区",
            "品牌聚集、主播孵化、机构入驻、活动落地、人才培养于一体的直播电商基地。",
        )
    for metric, period, target, reported in TARGETS:
        bases.do_set_target(db, SYSTEM_DEMO, base.id, metric, period, target, reported)

    orgs: dict[str, Organisation] = {}
    for kind, name, description, incubated in ORGS:
        org = db.scalar(
            select(Organisation).where(Organisation.base_id == base.id, Organisation.name == name)
        )
        if org is None:
            org = bases.do_create_org(db, SYSTEM_DEMO, base.id, kind, name, description)
        bases.do_set_incubated(db, SYSTEM_DEMO, org, incubated)
        orgs[name] = org

    warehouses = bases.warehouses_of(db, base.id)
    wh = (
        warehouses[0]
        if warehouses
        else bases.do_create_warehouse(
            db, SYSTEM_DEMO, base.id, "天竺综合保税区 保税仓", "0101", "T0101W000001"
        )
    )
    counters = bases.list_pickup_counters(db, base.id)
    counter = (
        counters[0]
        if counters
        else bases.do_create_pickup_counter(
            db, SYSTEM_DEMO, base.id, "天竺综保区 即买即提柜台", wh.id, "0101"
        )
    )

    users = {}
    for username, display, role, scope in ACCOUNTS:
        user = _user(db, username, display)
        users[username] = user
        if role is None:
            continue
        if role == "admin":
            do_grant(db, SYSTEM_DEMO, user, role)
        elif scope == "base":
            do_grant(db, SYSTEM_DEMO, user, role, base_id=base.id)
        elif scope == "counter":
            do_grant(db, SYSTEM_DEMO, user, role, base_id=base.id, counter_id=counter.id)
        elif scope is not None:
            do_grant(db, SYSTEM_DEMO, user, role, base_id=base.id, org_id=orgs[scope].id)
    for brand, title, description, skus, cross_border in PRODUCTS:
        org = orgs[brand]
        exists = db.scalar(
            select(Product.id).where(Product.org_id == org.id, Product.title == title)
        )
        if exists:
            continue
        cb = (
            catalog.CrossBorder("33049900", "JP" if "日本" in title else "KR", 0, 1300, 1500, wh.id)
            if cross_border
            else None
        )
        product = catalog.do_create_product(
            db,
            SYSTEM_DEMO,
            org.id,
            title,
            description,
            [catalog.SkuSpec(attrs, price, stock) for attrs, price, stock in skus],
            cb,
        )
        if uploads_dir is not None:
            _picture_for_product(db, product, brand, uploads_dir)

    show = db.scalar(select(Show).where(Show.title == SHOW_TITLE))
    if show is None:
        host = users["xiaoya"]
        show = shows.do_create_show(
            db, SYSTEM_DEMO, orgs["星河传媒"].id, SHOW_TITLE, _tomorrow_evening(), host.id
        )
        picks = db.scalars(
            select(Product)
            .where(Product.status == "active", Product.hs_code.is_(None))
            .order_by(Product.id)
            .limit(8)
        ).all()
        items = [shows.ShelfSpec(p.skus[0].id, p.skus[0].price_fen * 9 // 10) for p in picks]
        shows.do_set_shelf(db, SYSTEM_DEMO, show, items)
        # Not explaining yet: a link is explained once the show is live.
        if uploads_dir is not None:
            # The duck, the scarf, the sauce and the hawthorns: food and clothes, as titled.
            front = [picks[i] for i in (0, 7, 3, 4) if i < len(picks)]
            _cover_for_show(db, show, front, uploads_dir)

    live = db.scalar(select(Show).where(Show.title == LIVE_TITLE))
    if live is None:
        # A brand's own show (品牌自播) on air now, so the first screen has a live room.
        live = shows.do_create_show(
            db, SYSTEM_DEMO, orgs["颐和美妆"].id, LIVE_TITLE, utcnow(), users["ajie"].id
        )
        own = db.scalars(
            select(Product)
            .where(Product.org_id == orgs["颐和美妆"].id, Product.status == "active")
            .order_by(Product.id)
        ).all()
        shows.do_set_shelf(
            db,
            SYSTEM_DEMO,
            live,
            [shows.ShelfSpec(p.skus[0].id, p.skus[0].price_fen * 8 // 10) for p in own],
        )
        shows.do_start(db, SYSTEM_DEMO, live)
        shows.do_set_explaining(db, SYSTEM_DEMO, live, 1)
        if uploads_dir is not None:
            _cover_for_show(db, live, list(own[:4]), uploads_dir)

    sale_id, coupon_id = _live_offers(db, live)
    load_campaigns_demo(db, base.id, live, show)  # campaign, brand tags, launches, scenes
    load_studios_demo(db, base.id, show.id)

    held = db.scalars(select(Product.title).where(Product.status == "held")).all()
    hosts_line = load_demo_incubation(db, base.id, {name: o.id for name, o in orgs.items()})
    lines = [
        f"base {base.id} {BASE_NAME}",
        f"accounts (password {DEMO_PASSWORD}): " + ", ".join(u for u, *_ in ACCOUNTS),
        f"products: {db.scalar(select(Product.id).limit(1)) and len(PRODUCTS)}; "
        f"show {show.id} (upcoming), {live.id} (live)",
        f"flash sale {sale_id} (open) and coupon {coupon_id} in the live show",
        hosts_line,
    ]
    lines.append(training_demo.load(db, base.id))  # courses, sessions, one certificate
    if held:
        lines.append("held by compliance (check the word lists): " + "; ".join(held))
    return "\n".join(lines)


def _live_offers(db: Session, live: Show) -> tuple[str, str]:
    """An open flash sale of the explained item and a coupon in the live show, through
    the flash-sale and coupon services (as the host's buttons would); a run finds the
    ones still on offer and makes new ones only when they have closed or expired."""
    now = utcnow()
    sale = db.scalar(
        select(FlashSale)
        .where(FlashSale.show_id == live.id, FlashSale.status.in_(("scheduled", "open")))
        .order_by(FlashSale.id)
    )
    if sale is None and live.status != "ended" and live.shelf:
        first = min(live.shelf, key=lambda item: item.no)
        spec = flash.SaleSpec(
            first.sku_id,
            SALE_PRICE_FEN,
            SALE_UNITS,
            SALE_PER_BUYER,
            now,
            now + DEMO_WINDOW,
        )
        sale = flash.do_create_sale(db, SYSTEM_DEMO, live, spec)
    if sale is not None and sale.status == "scheduled":
        flash.do_open(db, SYSTEM_DEMO, sale)
    coupon = db.scalar(
        select(Coupon)
        .where(Coupon.show_id == live.id, Coupon.expires_at > now, Coupon.remaining > 0)
        .order_by(Coupon.id)
    )
    if coupon is None and live.status != "ended":
        coupon = coupons.do_create_coupon(
            db,
            SYSTEM_DEMO,
            live,
            coupons.CouponSpec(
                COUPON_UNITS,
                "amount",
                COUPON_OFF_FEN,
                None,
                None,
                COUPON_MIN_SPEND_FEN,
                now + DEMO_WINDOW,
            ),
        )
    return (sale.id if sale else "-"), (coupon.id if coupon else "-")
