"""The page routers of each feature, collected in one place for the app to include."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# Feature packages whose pages.py defines `router`. Order is the order of the nav bar.
FEATURES = ("bases", "catalog", "shows", "compliance")


def routers() -> list[APIRouter]:
    out = []
    for name in FEATURES:
        try:
            module = importlib.import_module(f"livebase.{name}.pages")
        except ModuleNotFoundError as exc:
            if exc.name != f"livebase.{name}.pages":
                raise
            continue
        out.append(module.router)
    return out
