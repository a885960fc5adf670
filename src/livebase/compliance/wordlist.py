"""Word lists: the data the engine matches, loaded from ``*.tsv`` files.

Format (one term a line, ``#`` starts a comment line)::

    term<TAB>label<TAB>options

``label`` is one of `LABELS`. ``options`` is a comma-separated list of flags:

* ``kinds=listing+script`` - only for these kinds (ad_law defaults to listing+script,
  every other label to all kinds: viewer chat is not advertising);
* ``action=block|mask|review`` - overrides the label's default action;
* ``allow`` - an allow-list entry: any finding inside its span is dropped (微信支付);
* ``pinyin`` - match the term's pinyin (typed ``jiaweixin``, mixed ``加wei信``) even
  when it is short; every term with Chinese characters whose pinyin has at least
  `MIN_AUTO_PINYIN` letters gets this without asking, ``nopinyin`` turns it off;
* ``initials`` - also match its pinyin initials (``nmsl``, ``cnm``);
* ``variants`` - also match homophone and look-alike forms from ``variants.txt``
  (split-character forms, 力口 for 加, apply to every term: nobody writes them innocently);
* ``needs=id|digits`` - a context word that only counts when an id or a number follows
  (微信 alone is a payment method; 微信 abc12345 is a contact);
* ``scope`` - an own-products scope word (本店, 我们家): a following absolute term is a
  comparison within one's own products, which the SAMR 2023 guide allows;
* ``strict`` - an absolute term that no scope word excuses (全网最低);
* ``off`` - remove this term of this label, e.g. from an override directory;
* ``group=NAME`` - the canonical word the entry is a variant of (reported as the term).

``variants.txt`` holds the homophone and split-character table:
``char<TAB>homophone|split|lookalike<TAB>alternative alternative ...``.

A file in a later directory (the moderators' override directory) replaces the file of
the same name in an earlier one; other files add to the set.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from livebase.compliance.verdict import KINDS, LABELS

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent / "wordlists"
VARIANTS_FILE = "variants.txt"
_ACTIONS = frozenset({"block", "mask", "review"})
_NEEDS = frozenset({"id", "digits"})
_FLAGS = frozenset(
    {"allow", "pinyin", "nopinyin", "initials", "variants", "scope", "strict", "off"}
)
_VARIANT_KINDS = frozenset({"homophone", "lookalike", "split"})
# A term with many variant characters explodes combinatorially; past this many forms
# the extra ones are rare spellings not worth the automaton memory.
MAX_FORMS_PER_TERM = 512
# Pinyin keys shorter than this (dama, kou) are common syllable runs in typed pinyin
# and in English; only terms marked ``pinyin`` get them.
MIN_AUTO_PINYIN = 5


@dataclass(frozen=True, slots=True)
class Term:
    term: str
    label: str
    source: str
    kinds: frozenset[str]
    action: str | None = None
    allow: bool = False
    pinyin: bool = False
    nopinyin: bool = False
    initials: bool = False
    variants: bool = False
    scope: bool = False
    strict: bool = False
    off: bool = False
    needs: str | None = None
    group: str | None = None

    @property
    def reported(self) -> str:
        return self.group or self.term


@dataclass(slots=True)
class WordLists:
    terms: list[Term] = field(default_factory=list)
    variants: dict[str, list[str]] = field(default_factory=dict)
    splits: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def list_files(dirs: Sequence[Path]) -> dict[str, Path]:
    """The effective files by name: later directories override earlier ones."""
    files: dict[str, Path] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if p.suffix == ".tsv" or p.name == VARIANTS_FILE:
                files[p.name] = p
    return files


def signature(dirs: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    """What hot reload compares: every effective file's path, mtime and size."""
    sig: list[tuple[str, int, int]] = []
    for d in dirs:
        try:
            sig.append((str(d), d.stat().st_mtime_ns, 0))  # a deleted file changes its dir
        except OSError:
            continue
    for p in list_files(dirs).values():
        try:
            st = p.stat()
        except OSError:
            continue
        sig.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(sig)


def parse_options(raw: str, label: str, where: str) -> dict[str, object]:
    default_kinds = ("listing", "script") if label == "ad_law" else KINDS
    opts: dict[str, object] = {"kinds": frozenset(default_kinds)}
    for item in filter(None, (o.strip() for o in raw.split(","))):
        key, _, value = item.partition("=")
        if key == "kinds":
            kinds = frozenset(value.split("+"))
            if not kinds <= set(KINDS):
                raise ValueError(f"{where}: unknown kind in {item!r}")
            opts["kinds"] = kinds
        elif key == "action":
            if value not in _ACTIONS:
                raise ValueError(f"{where}: unknown action {value!r}")
            opts["action"] = value
        elif key == "needs":
            if value not in _NEEDS:
                raise ValueError(f"{where}: unknown needs {value!r}")
            opts["needs"] = value
        elif key == "group":
            opts["group"] = value
        elif key in _FLAGS and not value:
            opts[key] = True
        else:
            raise ValueError(f"{where}: unknown option {item!r}")
    return opts


def parse_terms(lines: Iterable[str], source: str, problems: list[str]) -> list[Term]:
    terms: list[Term] = []
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{source}:{n}"
        cols = line.split("\t")
        if len(cols) < 2 or not cols[0].strip():
            problems.append(f"{where}: expected term<TAB>label<TAB>options")
            continue
        term, label = cols[0].strip(), cols[1].strip()
        if label not in LABELS:
            problems.append(f"{where}: unknown label {label!r}")
            continue
        try:
            opts = parse_options(cols[2] if len(cols) > 2 else "", label, where)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        terms.append(Term(term=term, label=label, source=source, **opts))  # type: ignore[arg-type]
    return terms


def parse_variants(
    lines: Iterable[str], problems: list[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(homophone and look-alike table, split-character table)."""
    table: dict[str, list[str]] = {}
    splits: dict[str, list[str]] = {}
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 3 or len(cols[0]) != 1 or cols[1] not in _VARIANT_KINDS:
            problems.append(f"{VARIANTS_FILE}:{n}: expected char<TAB>kind<TAB>alternatives")
            continue
        target = splits if cols[1] == "split" else table
        alts = target.setdefault(cols[0], [])
        alts.extend(a for a in cols[2].split() if a not in alts)
    return table, splits


def load(dirs: Sequence[Path]) -> WordLists:
    lists = WordLists()
    for name, path in list_files(dirs).items():
        text = path.read_text(encoding="utf-8")
        if name == VARIANTS_FILE:
            lists.variants, lists.splits = parse_variants(text.splitlines(), lists.problems)
        else:
            lists.terms.extend(parse_terms(text.splitlines(), path.stem, lists.problems))
    removed = {(t.term, t.label) for t in lists.terms if t.off}
    lists.terms = [t for t in lists.terms if (t.term, t.label) not in removed]
    for problem in lists.problems:
        log.warning("word list: %s", problem)
    return lists


def expand(term: str, variants: dict[str, list[str]]) -> list[str]:
    """The term with each character replaced by its homophone/split alternatives."""
    choices = [[ch, *variants.get(ch, ())] for ch in term]
    forms = ("".join(p) for p in itertools.product(*choices))
    return list(itertools.islice(forms, MAX_FORMS_PER_TERM))
