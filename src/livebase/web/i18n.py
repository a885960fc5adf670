"""Chinese and English for pages.

Messages live in ``i18n/zh.json`` and ``i18n/en.json`` (flat key → text) of this package,
plus the same files in any feature package that keeps its own (``compliance/i18n/``). We read JSON
rather than gettext catalogs because gettext needs a compile step (msgfmt) before the
first run, and our two-command set-up has none; the lookup itself is a dictionary get.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from starlette.requests import Request

LANGS = ("zh", "en")
DEFAULT = "zh"
COOKIE = "lb_lang"
_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for path in sorted(_PACKAGE.glob(f"*/i18n/{lang}.json")):
        data.update(json.loads(path.read_text("utf-8")))
    return data


def pick_lang(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(COOKIE)
    if asked in LANGS:
        return asked
    header = request.headers.get("accept-language", "").lower()
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT


def translator(lang: str) -> Translator:
    return Translator(lang)


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._own = catalog(lang)
        self._fallback = catalog("en")

    def __call__(self, key: str, **values: object) -> str:
        text = self._own.get(key) or self._fallback.get(key) or key
        return text.format(**values) if values else text
