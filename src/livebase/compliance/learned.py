"""The learned stage: character n-grams and a linear model per label (abuse, spam,
prohibited), scored in plain Python.

Word lists catch spelling; a line that insults, lures or sells without one listed word
gets through them. This stage scores the character 1-3-grams of the line (over the same
stripped view the automata read: folded, traditional → simplified, symbols and spaces
removed, repeats collapsed; every run of digits read as one ``0``) with one
logistic-regression model per label, trained by ``scripts/train_compliance_model.py``
(scikit-learn, at training time only). Serving needs neither numpy nor scikit-learn: the
weights file holds the n-grams whose weight survived pruning and their float16 weights,
and the n-grams of a line are found by one Aho-Corasick pass (the same pyahocorasick the
rules use) over its view, which reports every occurrence of every kept n-gram::

    z = bias + sum(weight[g] for each occurrence g in view) / sqrt(positions(view))

where ``positions`` is the number of 1-, 2- and 3-gram positions of the view (kept or
not), so training (scripts/train_compliance_model.py builds the same counts) and serving
agree exactly. A probability ``sigmoid(z)`` at or above the label's threshold (chosen
on a development split only) is a finding ``model:<label>`` that covers the whole line
and sends it to ``review``: a model never blocks or masks on its own.

Weights file (``model/weights.bin``): zlib-compressed; a JSON header line, then per label
its n-grams (UTF-8, joined by newlines) and its float16 weights (little-endian), sizes in
the header.
"""

from __future__ import annotations

import json
import math
import operator
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import ahocorasick

from livebase.compliance import normalize

WEIGHTS_PATH: Final = Path(__file__).resolve().parent / "model" / "weights.bin"
FORMAT_VERSION: Final = 2
MODEL_LABELS: Final = ("abuse", "spam", "prohibited")
NGRAMS: Final = (1, 3)
# A line shorter than this (in stripped characters) is left to the rules: 好看, 666,
# 扣1, 多少钱, 什么时候发货 are most of chat; the short insults, lures and contact
# details are what the word lists are best at, and a model reading a few characters
# guesses (and costs as much as the rules, see docs/compliance-model.md).
MIN_CHARS: Final = 8
# Only the start of a long text is read; a listing's title and first lines carry it.
MAX_CHARS: Final = 400
_DIGITS = re.compile(r"[0-9]+")


def positions(n: int) -> int:
    """How many 1..3-gram positions a view of ``n`` characters has."""
    return _POSITIONS[n] if n < len(_POSITIONS) else _positions(n)


def _positions(n: int) -> int:
    lo, hi = NGRAMS
    return sum(max(0, n - k + 1) for k in range(lo, hi + 1))


_POSITIONS: Final = [_positions(n) for n in range(2 * MAX_CHARS)]


def ngrams(view: str) -> list[str]:
    """Every 1..3-gram occurrence of a view, in training (serving finds the kept ones
    with the automaton, which gives the same multiset)."""
    lo, hi = NGRAMS
    return [view[i : i + k] for k in range(lo, hi + 1) for i in range(len(view) - k + 1)]


def view_of(text: str) -> str:
    """The text as the model reads it: the automata's stripped view, cut to MAX_CHARS,
    every run of digits one ``0`` (order numbers, prices and ids say nothing by their
    digits)."""
    view = normalize.stripped(text[:MAX_CHARS])
    return _DIGITS.sub("0", view) if _DIGITS.search(view) else view


@dataclass(frozen=True, slots=True)
class LabelModel:
    label: str
    bias: float
    threshold: float
    weights: dict[str, float]


@dataclass(frozen=True, slots=True)
class Score:
    label: str
    score: float
    top: str  # the n-gram that pushed the score up most: a hint for the moderator


class Model:
    """The per-label linear models of one weights file, with one automaton over the
    n-grams any of them kept (payload: the n-gram and its weight per label)."""

    def __init__(self, labels: Iterable[LabelModel], meta: dict[str, Any] | None = None) -> None:
        self.labels = tuple(labels)
        self.meta = meta or {}
        self._biases = [m.bias for m in self.labels]
        # The logit each threshold stands for: comparing logits spares the exp().
        self._cuts = [_logit(m.threshold) for m in self.labels]
        keys: set[str] = set()
        for m in self.labels:
            keys.update(m.weights)
        self._automaton: Any = None
        if keys:
            automaton = ahocorasick.Automaton()
            for key in keys:
                weights = tuple(m.weights.get(key, 0.0) for m in self.labels)
                automaton.add_word(key, (*weights, key))  # the key last, for `top`
            automaton.make_automaton()
            self._automaton = automaton

    def logits(self, view: str) -> tuple[list[float], list[tuple[Any, ...]]]:
        """Each label's logit for a view, and the payloads (weights..., n-gram) of the
        kept n-grams found in it. Every step is one C call over the line: the automaton
        pass, the transposition, one sum per label."""
        if self._automaton is None or len(view) < NGRAMS[0]:
            return list(self._biases), []
        found = list(map(_second, self._automaton.iter(view)))
        if not found:
            return list(self._biases), []
        norm = 1.0 / math.sqrt(positions(len(view)))
        columns = list(zip(*found, strict=True))
        return [b + sum(c) * norm for b, c in zip(self._biases, columns, strict=False)], found

    def scores(self, text: str) -> dict[str, float]:
        """Every label's probability for ``text`` (no threshold, no length gate)."""
        z, _ = self.logits(view_of(text))
        return {m.label: _sigmoid(v) for m, v in zip(self.labels, z, strict=True)}

    def hits(self, text: str) -> list[Score]:
        """The labels whose score reaches their threshold; [] for short lines."""
        if len(text) < MIN_CHARS:
            return []  # before any work: most chat is short (a fold rarely lengthens)
        view = view_of(text)
        if len(view) < MIN_CHARS:
            return []
        z, found = self.logits(view)
        out: list[Score] = []
        for i, m in enumerate(self.labels):
            if z[i] >= self._cuts[i]:
                top = max(found, key=lambda f: (f[i], f[-1]))[-1] if found else ""
                out.append(Score(m.label, _sigmoid(z[i]), top))
        return out

    def size(self) -> int:
        return sum(len(m.weights) for m in self.labels)


_second = operator.itemgetter(1)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def dump(labels: Iterable[LabelModel], meta: dict[str, Any]) -> bytes:
    """The weights file for ``labels`` (weights rounded to float16)."""
    header: dict[str, Any] = {"version": FORMAT_VERSION, "ngrams": list(NGRAMS), **meta}
    header["labels"] = []
    body = bytearray()
    for m in labels:
        keys = sorted(m.weights)
        text = "\n".join(keys).encode("utf-8")
        values = struct.pack(f"<{len(keys)}e", *(m.weights[k] for k in keys))
        header["labels"].append(
            {
                "label": m.label,
                "bias": m.bias,
                "threshold": m.threshold,
                "count": len(keys),
                "text_bytes": len(text),
            }
        )
        body += text + values
    head = json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return zlib.compress(head + b"\n" + bytes(body), 9)


def load(data: bytes) -> Model:
    raw = zlib.decompress(data)
    head, _, body = raw.partition(b"\n")
    header = json.loads(head)
    if header.get("version") != FORMAT_VERSION:
        raise ValueError(f"unknown weights format {header.get('version')!r}")
    labels: list[LabelModel] = []
    at = 0
    for spec in header["labels"]:
        count, size = spec["count"], spec["text_bytes"]
        keys = body[at : at + size].decode("utf-8").split("\n") if count else []
        at += size
        values = struct.unpack_from(f"<{count}e", body, at)
        at += 2 * count
        labels.append(
            LabelModel(
                spec["label"],
                float(spec["bias"]),
                float(spec["threshold"]),
                dict(zip(keys, values, strict=True)),
            )
        )
    meta = {k: v for k, v in header.items() if k != "labels"}
    return Model(labels, meta)


_shipped: Model | None = None


def shipped() -> Model | None:
    """The model of the weights shipped in the package, loaded once per process; None
    when the file is absent (a checkout before training)."""
    global _shipped
    if _shipped is None and WEIGHTS_PATH.is_file():
        _shipped = load(WEIGHTS_PATH.read_bytes())
    return _shipped
