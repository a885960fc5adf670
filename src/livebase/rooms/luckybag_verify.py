"""Recompute a drawn lucky bag from what was published (``livebase luckybag verify``).

Reads the bag and its entrants from a server's public API, or from a JSON file holding
``{"bag": <GET /api/v1/lucky-bags/{id}>, "entrants": [ids...]}`` (or the bag's own fields
with an ``entrants`` list beside them), and checks: the seed against its hash, the entrants
against their digest and count, and the winners against a fresh draw.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from livebase.rooms import luckybag_draw as drawing


class NotVerifiable(Exception):
    """The bag cannot be checked (not drawn yet, not found, unreadable input)."""


def fetch(url: str, bag_id: str, timeout: float = 10.0) -> tuple[dict[str, Any], list[str]]:
    base = url.rstrip("/")
    with httpx.Client(timeout=timeout) as client:
        r = client.get(f"{base}/api/v1/lucky-bags/{bag_id}")
        if r.status_code != 200:
            raise NotVerifiable(f"GET lucky bag {bag_id}: HTTP {r.status_code} {r.text[:200]}")
        bag = r.json()
        if bag.get("status") != "drawn":
            raise NotVerifiable(f"lucky bag {bag_id} is {bag.get('status')}: not drawn yet")
        t = client.get(f"{base}/api/v1/lucky-bags/{bag_id}/entrants.txt")
        if t.status_code != 200:
            raise NotVerifiable(f"GET entrants of {bag_id}: HTTP {t.status_code}")
    return bag, [] if t.text == "" else t.text.split("\n")


def load(path: Path) -> tuple[dict[str, Any], list[str]]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise NotVerifiable(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entrants"), list):
        raise NotVerifiable(f"{path}: expected an object with an 'entrants' list")
    bag = data.get("bag", data)
    if not isinstance(bag, dict):
        raise NotVerifiable(f"{path}: 'bag' is not an object")
    return bag, [str(i) for i in data["entrants"]]


def _winner_ids(bag: dict[str, Any]) -> list[str]:
    return [w["user_id"] if isinstance(w, dict) else str(w) for w in bag.get("winners") or []]


def problems(bag: dict[str, Any], entrants: list[str]) -> list[str]:
    """What does not match; empty when the draw is verified."""
    try:
        seed = bytes.fromhex(str(bag["seed"]))
        k = int(bag["winners_count"])
        published_hash = str(bag["seed_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        raise NotVerifiable(
            f"the bag lacks a readable seed, seed_hash or winners_count ({exc})"
        ) from exc
    out = []
    if drawing.seed_hash(seed) != published_hash:
        out.append("SHA-256(seed) does not equal seed_hash")
    ordered = drawing.sort_entrants(entrants)
    if ordered != entrants:
        out.append("the entrants are not the sorted list of distinct ids")
    digest = bag.get("entrants_digest")
    if digest is not None and drawing.entrants_digest(entrants) != digest:
        out.append("SHA-256 of the entrants does not equal entrants_digest")
    count = bag.get("entrants_count")
    if count is not None and int(count) != len(entrants):
        out.append(f"entrants_count is {count}, the list has {len(entrants)}")
    want = drawing.draw(seed, ordered, k)
    got = _winner_ids(bag)
    if want != got:
        out.append(f"winners recomputed {want}, published {got}")
    return out
