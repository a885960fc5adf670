"""Pictures for the demo data, drawn with Pillow at load time: product shots that look
like what they stand for (a jar of sauce, a gift box, a T-shirt, a dropper bottle) on a
studio background, and show covers that put a few products on a presenter's table.

Nothing is downloaded and no media file lives in git: `livebase demo` draws them. Each
drawing is made at twice its size and scaled down, which is how Pillow gets smooth edges.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

RGB = tuple[int, int, int]
Draw = ImageDraw.ImageDraw
# Drawings are laid out in a 1000 × 1000 space and drawn at SUPER times the output size.
SUPER = 2
FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)

# Colours named in the demo's SKU attributes, so a 胭脂红 scarf is red.
COLOURS: dict[str, RGB] = {
    "胭脂红": (196, 38, 66),
    "黛青": (52, 84, 96),
    "白": (246, 246, 242),
    "黑": (40, 40, 44),
    "驼色": (193, 154, 107),
    "香槟": (236, 214, 178),
    "米白": (240, 232, 214),
    "灰": (150, 152, 158),
    "酒红": (120, 28, 48),
    "原色": (226, 212, 184),
}
# Background and accent per brand: warm for the pastry shop, muted for the weaver, cool
# and clean for the cosmetics brand.
BRAND_STYLE: dict[str, tuple[RGB, RGB, RGB]] = {
    "京味斋": ((252, 240, 226), (236, 214, 190), (176, 36, 36)),
    "燕山织造": ((238, 240, 244), (214, 218, 226), (60, 72, 96)),
    "颐和美妆": ((236, 246, 248), (206, 228, 236), (46, 130, 160)),
}
DEFAULT_STYLE = ((240, 240, 240), (215, 215, 220), (90, 90, 110))


@cache
def _font_path() -> str | None:
    for path in FONT_PATHS:
        if Path(path).exists():
            return path
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    if path is None:  # no CJK font on this machine: labels keep their shapes, lose words
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


def _mix(a: RGB, b: RGB, f: float) -> RGB:
    return (
        int(a[0] + (b[0] - a[0]) * f),
        int(a[1] + (b[1] - a[1]) * f),
        int(a[2] + (b[2] - a[2]) * f),
    )


def _light(c: RGB, f: float = 0.35) -> RGB:
    return _mix(c, (255, 255, 255), f)


def _dark(c: RGB, f: float = 0.3) -> RGB:
    return _mix(c, (0, 0, 0), f)


class Canvas:
    """A drawing surface in design units (1000 across) at the real pixel scale."""

    def __init__(self, size: tuple[int, int], top: RGB, bottom: RGB) -> None:
        self.w, self.h = size[0] * SUPER, size[1] * SUPER
        self.k = self.w / 1000
        # A studio sweep: light above, the floor a shade deeper.
        column = Image.linear_gradient("L").resize((1, self.h), Image.Resampling.BILINEAR)
        ramp = column.resize((self.w, self.h), Image.Resampling.NEAREST)
        self.img = Image.composite(
            Image.new("RGB", (self.w, self.h), bottom),
            Image.new("RGB", (self.w, self.h), top),
            ramp,
        )
        self.d = ImageDraw.Draw(self.img)

    def s(self, *xy: float) -> list[float]:
        return [v * self.k for v in xy]

    def rect(self, box: tuple[float, ...], fill: RGB, r: float = 0, **kw: object) -> None:
        self.d.rounded_rectangle(self.s(*box), radius=r * self.k, fill=fill, **kw)  # type: ignore[arg-type]

    def ellipse(self, box: tuple[float, ...], fill: RGB) -> None:
        self.d.ellipse(self.s(*box), fill=fill)

    def poly(self, points: Sequence[tuple[float, float]], fill: RGB) -> None:
        self.d.polygon([(x * self.k, y * self.k) for x, y in points], fill=fill)

    def line(self, points: Sequence[tuple[float, float]], fill: RGB, width: float) -> None:
        self.d.line([(x * self.k, y * self.k) for x, y in points], fill=fill,
                    width=max(1, int(width * self.k)), joint="curve")  # fmt: skip

    def shaded(self, box: tuple[float, float, float, float], c: RGB, r: float = 0) -> None:
        """A body lit from the left: a band of light and a darker right edge."""
        x0, y0, x1, y1 = box
        self.rect(box, c, r)
        w = x1 - x0
        self.rect(
            (x0 + w * 0.1, y0 + r * 0.5, x0 + w * 0.22, y1 - r * 0.5), _light(c, 0.28), w * 0.05
        )
        self.rect(
            (x1 - w * 0.14, y0 + r * 0.5, x1 - w * 0.04, y1 - r * 0.5), _dark(c, 0.1), w * 0.05
        )

    def shadow(self, cx: float, y: float, rx: float, ry: float = 22) -> None:
        """A soft contact shadow, blurred in a patch around it (not the whole canvas)."""
        pad = 60
        x0, y0, x1, y1 = (
            int(v) for v in self.s(cx - rx - pad, y - ry - pad, cx + rx + pad, y + ry + pad)
        )
        layer = Image.new("L", (x1 - x0, y1 - y0), 0)
        inner = self.s(pad, pad, 2 * rx + pad, 2 * ry + pad)
        ImageDraw.Draw(layer).ellipse(inner, fill=60)
        layer = layer.filter(ImageFilter.GaussianBlur(18 * self.k))
        self.img.paste((0, 0, 0), (x0, y0), mask=layer)

    def text(self, xy: tuple[float, float], words: str, size: float, fill: RGB,
             anchor: str = "mm") -> None:  # fmt: skip
        self.d.text((xy[0] * self.k, xy[1] * self.k), words, font=_font(int(size * self.k)),
                    fill=fill, anchor=anchor)  # fmt: skip

    def label(self, box: tuple[float, float, float, float], brand: str, name: str,
              paper: RGB, ink: RGB) -> None:  # fmt: skip
        x0, y0, x1, y1 = box
        self.rect(box, paper, 10)
        self.rect(
            (x0 + 8, y0 + 8, x1 - 8, y1 - 8), paper, 8, outline=ink, width=max(1, int(2 * self.k))
        )
        h = y1 - y0
        self.text(((x0 + x1) / 2, y0 + h * 0.32), brand, h * 0.2, ink)
        self.text(
            ((x0 + x1) / 2, y0 + h * 0.66),
            name,
            min(h * 0.24, (x1 - x0) / max(len(name), 1) * 0.9),
            _dark(ink, 0.2),
        )

    def png(self, out: tuple[int, int]) -> Image.Image:
        return self.img.resize(out, Image.Resampling.LANCZOS)


# ---- the objects ------------------------------------------------------------------------
# Each draws one product centred on x=500, standing on the floor line y≈860.


def _jar(c: Canvas, brand: str, name: str, ink: RGB, body: RGB, wide: bool) -> None:
    x0, x1 = (250, 750) if wide else (320, 680)
    top = 520 if wide else 330
    c.shadow(500, 860, (x1 - x0) * 0.55)
    c.shaded((x0, top, x1, 860), body, 60 if wide else 50)
    lid = _dark(ink, 0.1)
    c.shaded((x0 - 10, top - 90, x1 + 10, top + 10), lid, 24)
    for i in range(8):  # the lid's knurled edge
        x = x0 + (x1 - x0) * (i + 0.5) / 8
        c.line([(x, top - 80), (x, top)], _dark(lid, 0.15), 4)
    c.label((x0 + 30, top + 80, x1 - 30, 820 if wide else 700), brand, name, (252, 248, 236), ink)


def _bottle(c: Canvas, brand: str, name: str, ink: RGB, body: RGB) -> None:
    c.shadow(500, 860, 160)
    c.shaded((360, 330, 640, 860), body, 70)
    c.rect((440, 250, 560, 345), _dark(body, 0.05), 14)
    c.shaded((420, 150, 580, 260), _dark(ink, 0.05), 18)
    c.label((385, 480, 615, 740), brand, name, (255, 255, 255), ink)


def _dropper(c: Canvas, brand: str, name: str, ink: RGB) -> None:
    glass = (186, 120, 60)  # amber glass keeps serums from light
    c.shadow(500, 860, 150)
    c.shaded((370, 420, 630, 860), glass, 60)
    c.rect((435, 330, 565, 430), (40, 40, 44), 12)
    c.ellipse((445, 170, 555, 350), (30, 30, 34))
    c.ellipse((465, 200, 490, 280), (90, 90, 96))
    c.label((395, 560, 605, 770), brand, name, (250, 246, 240), ink)


def _tube(c: Canvas, x: float, w: float, colour: RGB, ink: RGB, brand: str, name: str) -> None:
    top, bottom = 240, 790
    c.poly(
        [(x - w / 2, top), (x + w / 2, top), (x + w * 0.42, bottom), (x - w * 0.42, bottom)], colour
    )
    c.rect((x - w / 2 - 6, top - 30, x + w / 2 + 6, top + 10), _dark(colour, 0.08), 6)  # crimp
    for i in range(5):
        c.line(
            [(x - w / 2, top - 24 + i * 7), (x + w / 2, top - 24 + i * 7)], _dark(colour, 0.2), 2
        )
    c.rect((x - w * 0.42 + 4, top + 40, x - w * 0.32, bottom - 30), _light(colour, 0.4), 6)
    c.shaded((x - w * 0.32, bottom - 5, x + w * 0.32, 860), _dark(ink, 0.0), 16)  # cap
    if w >= 200:
        c.label((x - w * 0.36, 430, x + w * 0.36, 640), brand, name, _light(colour, 0.7), ink)
    else:  # a narrow tube of a set has room for its scent, not the brand
        c.rect((x - w * 0.34, 430, x + w * 0.34, 640), _light(colour, 0.7), 8)
        c.text((x, 535), name, w * 0.28, ink)


def _sachet(c: Canvas, brand: str, name: str, ink: RGB) -> None:
    c.shadow(500, 860, 260, 30)
    foil = (196, 226, 238)
    c.poly([(230, 250), (770, 250), (790, 850), (210, 850)], foil)
    c.poly([(230, 250), (500, 250), (460, 850), (210, 850)], _light(foil, 0.25))
    for y in (270, 830):  # sealed edges
        for i in range(26):
            x = 230 + i * 21
            c.line([(x, y - 12), (x + 10, y + 12)], _dark(foil, 0.15), 3)
    c.poly([(760, 300), (790, 300), (775, 330)], (250, 250, 250))  # tear notch
    c.label((300, 380, 700, 640), brand, name, (255, 255, 255), ink)
    c.text((500, 740), "10 PCS", 46, _dark(foil, 0.5))


def _box(c: Canvas, brand: str, name: str, ink: RGB, colour: RGB, window: bool) -> None:
    c.shadow(500, 860, 320, 30)
    front = (170, 470, 830, 860)
    c.shaded(front, colour, 12)
    c.poly([(170, 470), (830, 470), (780, 400), (220, 400)], _light(colour, 0.2))  # lid top
    c.rect((150, 450, 850, 520), _dark(colour, 0.08), 10)  # lid edge
    gold = (214, 172, 80)
    c.rect((470, 400, 530, 860), gold, 0)  # ribbon
    c.ellipse((420, 350, 500, 430), gold)
    c.ellipse((500, 350, 580, 430), gold)
    if window:  # a window onto the pastries inside
        c.rect((230, 560, 440, 800), (250, 240, 220), 20)
        for i, (x, y) in enumerate([(280, 620), (380, 620), (280, 730), (380, 730)]):
            c.ellipse(
                (x - 42, y - 36, x + 42, y + 36), (214, 160, 90) if i % 2 else (236, 200, 130)
            )
        c.label((560, 580, 800, 780), brand, name, (252, 244, 228), ink)
    else:  # a gift box: one wide label across the ribbon, like a printed sleeve
        c.label((230, 590, 770, 790), brand, name, (252, 244, 228), ink)


def _pouch(c: Canvas, brand: str, name: str, ink: RGB, colour: RGB) -> None:
    c.shadow(500, 860, 230)
    c.poly([(290, 230), (710, 230), (740, 860), (260, 860)], colour)
    c.poly([(290, 230), (420, 230), (380, 860), (260, 860)], _light(colour, 0.18))
    c.line([(300, 300), (700, 300)], _dark(colour, 0.2), 8)  # the zip
    c.ellipse((360, 540, 640, 820), (255, 246, 236))  # window onto the fruit
    for x, y in [(450, 620), (540, 640), (480, 720), (570, 730), (420, 710)]:
        c.ellipse((x - 40, y - 40, x + 40, y + 40), (200, 30, 40))
        c.ellipse((x - 22, y - 26, x - 6, y - 10), (250, 140, 140))
    c.label((330, 340, 670, 500), brand, name, (255, 250, 240), ink)


def _tshirt(c: Canvas, colour: RGB, collar: str) -> None:
    body = [(330, 260), (420, 230), (580, 230), (670, 260), (800, 360), (730, 460), (660, 420),
            (660, 840), (340, 840), (340, 420), (270, 460), (200, 360)]  # fmt: skip
    c.shadow(500, 860, 200, 20)
    c.poly(body, colour)
    c.poly([(340, 420), (420, 420), (410, 840), (340, 840)], _light(colour, 0.12))
    edge = _dark(colour, 0.18)
    if collar == "crew":
        c.d.arc(c.s(420, 180, 580, 300), 0, 180, fill=edge, width=int(14 * c.k))
    elif collar == "shirt":
        c.poly([(420, 230), (500, 330), (470, 360), (400, 260)], _light(colour, 0.2))
        c.poly([(580, 230), (500, 330), (530, 360), (600, 260)], _light(colour, 0.2))
        c.line([(500, 330), (500, 840)], edge, 4)
        for y in range(400, 820, 90):
            c.ellipse((490, y - 8, 510, y + 8), edge)
    elif collar == "knit":
        c.d.arc(c.s(420, 180, 580, 300), 0, 180, fill=edge, width=int(22 * c.k))
        for x in range(350, 660, 16):  # ribbed hem
            c.line([(x, 790), (x, 840)], edge, 3)
        for y in range(300, 780, 40):  # a cable knit down the front
            c.d.arc(c.s(470, y, 530, y + 50), 90, 270, fill=edge, width=int(5 * c.k))
            c.d.arc(c.s(470, y + 20, 530, y + 70), 270, 90, fill=edge, width=int(5 * c.k))


def _pyjamas(c: Canvas, colour: RGB) -> None:
    c.shadow(500, 880, 260, 20)
    trousers = _dark(colour, 0.06)
    c.poly(
        [(560, 520), (820, 520), (850, 880), (740, 880), (690, 620), (660, 880), (560, 880)],
        trousers,
    )
    c.line([(560, 560), (820, 560)], _dark(colour, 0.2), 4)
    _tshirt_at(c, colour, 0.78, (-80, -40))


def _tshirt_at(c: Canvas, colour: RGB, scale: float, offset: tuple[float, float]) -> None:
    ox, oy = offset

    def p(x: float, y: float) -> tuple[float, float]:
        return (500 + (x - 500) * scale + ox, 500 + (y - 500) * scale + oy)

    body = [(330, 260), (420, 230), (580, 230), (670, 260), (800, 360), (730, 460), (660, 420),
            (660, 840), (340, 840), (340, 420), (270, 460), (200, 360)]  # fmt: skip
    c.poly([p(x, y) for x, y in body], colour)
    c.poly([p(420, 230), p(500, 330), p(470, 360), p(400, 260)], _light(colour, 0.25))
    c.poly([p(580, 230), p(500, 330), p(530, 360), p(600, 260)], _light(colour, 0.25))
    c.line([p(500, 330), p(500, 840)], _dark(colour, 0.2), 3)
    c.line([p(340, 800), p(660, 800)], _dark(colour, 0.12), 10)  # piping


def _square_scarf(c: Canvas, colour: RGB) -> None:
    c.shadow(500, 840, 300, 24)
    c.poly([(500, 180), (830, 510), (500, 840), (170, 510)], colour)
    c.poly([(500, 250), (760, 510), (500, 770), (240, 510)], _light(colour, 0.15))
    gold = (224, 190, 110)
    for r in (70, 140, 210):  # a printed medallion
        c.d.ellipse(c.s(500 - r, 510 - r, 500 + r, 510 + r), outline=gold, width=int(6 * c.k))
    for dx, dy in [(0, -240), (240, 0), (0, 240), (-240, 0)]:
        c.ellipse((500 + dx - 22, 510 + dy - 22, 500 + dx + 22, 510 + dy + 22), gold)


def _long_scarf(c: Canvas, colour: RGB) -> None:
    c.shadow(500, 860, 280, 24)
    c.rect((300, 160, 470, 800), colour, 30)
    c.rect((530, 160, 700, 800), _dark(colour, 0.05), 30)
    c.poly([(300, 200), (700, 200), (700, 330), (300, 330)], _light(colour, 0.1))  # the fold
    for i in range(3):  # woven stripes
        y = 420 + i * 120
        c.rect((300, y, 470, y + 24), _light(colour, 0.3), 4)
        c.rect((530, y, 700, y + 24), _light(colour, 0.3), 4)
    for x in list(range(310, 470, 18)) + list(range(540, 700, 18)):  # fringe
        c.line([(x, 800), (x + 2, 860)], _dark(colour, 0.1), 5)


def _tote(c: Canvas, colour: RGB, brand: str, ink: RGB) -> None:
    c.shadow(500, 860, 270, 24)
    handle = _dark(colour, 0.25)
    c.d.arc(c.s(330, 170, 500, 520), 180, 360, fill=handle, width=int(26 * c.k))
    c.d.arc(c.s(500, 170, 670, 520), 180, 360, fill=handle, width=int(26 * c.k))
    c.poly([(260, 350), (740, 350), (770, 860), (230, 860)], colour)
    c.poly([(260, 350), (400, 350), (370, 860), (230, 860)], _light(colour, 0.12))
    for x in (370, 630):
        c.line([(x, 350), (x, 860)], _dark(colour, 0.12), 6)  # straps sewn down
    c.text((500, 620), brand, 90, ink)
    c.text((500, 720), "CANVAS", 44, _dark(colour, 0.35))


def _drawing_for(title: str, brand: str, colour: RGB | None) -> Callable[[Canvas, RGB], None]:
    """Which drawing a product gets, by what its title says it is."""
    short = _short_name(title)
    garment = colour or (230, 230, 228)

    def pick(c: Canvas, ink: RGB) -> None:
        if "面膜" in title:
            _sachet(c, brand, short, ink)
        elif "精华" in title:
            _dropper(c, brand, short, ink)
        elif "护手霜" in title:
            scents = (
                ("乳木果", (214, 176, 140)),
                ("玫瑰", (232, 150, 170)),
                ("白茶", (188, 214, 170)),
            )
            for x, (scent, col) in zip((330, 500, 670), scents, strict=True):
                _tube(c, x, 150, col, ink, brand, scent)
        elif "洁面" in title:
            _tube(c, 500, 230, (250, 250, 252), ink, brand, short)
        elif "防晒" in title:
            _bottle(c, brand, short, ink, (255, 214, 96))
        elif "面霜" in title:
            _jar(c, brand, short, ink, (250, 250, 252), wide=True)
        elif "酱" in title:
            _jar(c, brand, short, ink, (120, 70, 40), wide=False)
        elif "山楂" in title or "葫芦" in title:
            _pouch(c, brand, short, ink, (214, 56, 50))
        elif "烤鸭" in title:
            _box(c, brand, short, ink, (176, 36, 36), window=False)
        elif "礼盒" in title or "糕" in title or "驴打滚" in title or "夹饼" in title:
            _box(
                c,
                brand,
                short,
                ink,
                (186, 52, 44) if "礼盒" in title else (226, 150, 60),
                window=True,
            )
        elif "方巾" in title:
            _square_scarf(c, garment)
        elif "围巾" in title:
            _long_scarf(c, garment)
        elif "包" in title:
            _tote(c, garment, brand, ink)
        elif "睡衣" in title:
            _pyjamas(c, garment)
        elif "衬衫" in title:
            _tshirt(c, garment, "shirt")
        elif "毛衣" in title:
            _tshirt(c, garment, "knit")
        else:
            _tshirt(c, garment, "crew")

    return pick


def _short_name(title: str) -> str:
    """The words a label has room for: the title without the brand, its size or where
    it was imported from (京味斋 北京烤鸭礼盒 → 北京烤鸭礼盒, 日本进口 保湿面霜 50g → 保湿面霜)."""
    words = [
        w
        for w in title.replace("　", " ").split()
        if w not in BRAND_STYLE and not any(ch.isdigit() for ch in w) and not w.endswith("进口")
    ]
    chinese = [w for w in words if any("\u4e00" <= ch <= "\u9fff" for ch in w)]
    words = chinese or words
    if not words:
        return title[:6]
    return max(words, key=len)[:6]  # the first of the longest: the product's own name


def product_picture(title: str, brand: str, colour_name: str | None = None,
                    size: int = 800) -> bytes:  # fmt: skip
    """A JPEG product shot for a demo listing."""
    top, bottom, ink = BRAND_STYLE.get(brand, DEFAULT_STYLE)
    c = Canvas((size, size), top, bottom)
    _drawing_for(title, brand, COLOURS.get(colour_name or ""))(c, ink)
    return _jpeg(c.png((size, size)))


def show_cover(title: str, products: Sequence[tuple[str, str, str | None]],
               size: tuple[int, int] = (1280, 720)) -> bytes:  # fmt: skip
    """A 16:9 cover: a studio backdrop, the show's title, a few of its products on the
    presenter's table. ``products`` are (title, brand, colour name)."""
    w, h = size
    cover = Image.new("RGB", size, (40, 20, 24))
    draw = ImageDraw.Draw(cover)
    for y in range(h):  # a warm studio wall
        draw.line([(0, y), (w, y)], fill=_mix((120, 30, 40), (230, 90, 60), y / h))
    for i in range(9):  # soft light panels
        x = int(w * (i + 0.5) / 9)
        draw.rounded_rectangle(
            (x - 50, 30, x + 50, int(h * 0.5)), 20, fill=_mix((150, 50, 60), (255, 190, 150), 0.25)
        )
    table = int(h * 0.8)
    draw.rectangle((0, table, w, h), fill=(92, 52, 40))  # the presenter's table
    draw.rectangle((0, table, w, table + int(h * 0.02)), fill=(140, 90, 70))
    shown = products[:4]
    tile = int(h * 0.5)
    for i, (ptitle, brand, colour) in enumerate(shown):
        shot = Image.open(io.BytesIO(product_picture(ptitle, brand, colour, tile)))
        mask = Image.new("L", (tile, tile), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, tile, tile), tile // 10, fill=255)
        x = int(w * (i + 0.5) / max(len(shown), 1) - tile / 2)
        cover.paste(shot, (x, table - tile + tile // 10), mask)
    font = _font(int(h * 0.085))
    draw.rounded_rectangle((int(w * 0.04), int(h * 0.05), int(w * 0.96), int(h * 0.2)), 24,
                           fill=(255, 250, 240))  # fmt: skip
    draw.text((w // 2, int(h * 0.125)), title, font=font, fill=(150, 24, 30), anchor="mm")
    return _jpeg(cover)


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=88)
    return buf.getvalue()
