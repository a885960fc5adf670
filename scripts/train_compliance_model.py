"""Train the learned stage of compliance and write src/livebase/compliance/model/weights.bin.

    .venv/bin/pip install -c constraints.txt -e '.[train]'      # scikit-learn, numpy
    PYTHONPATH=src .venv/bin/python scripts/train_compliance_model.py [--cold data/cold]

Data (nothing here is fetched; bring it first):

* abuse: COLD (thu-coai/COLDataset, Apache-2.0), its ``train.csv`` / ``dev.csv`` /
  ``test.csv`` copied to ``data/cold/`` (git-ignored). The model trains on train; the
  regularisation and the threshold are chosen on dev only; test is reported, never used.
* spam and prohibited: ``scripts/compliance_training/lines.tsv`` (written for livebase, see
  its README), expanded with ``slots.tsv``, split 80/20 by a stable hash of the source
  line (every expansion of one line lands in the same split): train and dev.
* everyday live-selling talk (the ``safe`` lines) is a negative for every label.

The evaluation set and the blind hold-out set (tests/compliance/eval) are never read here.
The run is deterministic: same data, same weights file.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from livebase.compliance import Checker, learned  # noqa: E402

TRAINING = ROOT / "scripts" / "compliance_training"
SLOT = re.compile(r"\{(\w+)\}")
EXPANSIONS = 8  # per source line with slots
MAX_BYTES = 1_000_000
# What the learned stage may add, chosen on dev: share of safe lines a label may flag.
# Rules + model together, on COLD dev's safe comments (rules alone flag 1.5 % there).
# COLD test flags several times what dev does (its anti-bias comments, see the model
# card): 2.8 % on dev became 8.4 % on test; the ensemble at --budget 0.022 (the model
# adding about 0.7 % on dev) gave 5.7 % at accuracy 0.718: neither meets issue 17's targets.
ABUSE_COLD_SAFE_BUDGET = 0.028
EVERYDAY_BUDGET = 0.005
OWN_FLOOR = 0.9  # per label, on the everyday lines of the dev split
# Abuse models (--abuse-model): counts ships; nb scales each feature by its log-count
# ratio; ensemble is the mean of the two. The ensemble has the lowest dev log-loss but
# not a better dev accuracy at the operating point; nb alone added a false positive on
# the blind hold-out. Neither ships (docs/compliance-model.md, variants).
_KINDS = {"ensemble": ("counts", "nb"), "counts": ("counts",), "nb": ("nb",)}


@dataclass
class Line:
    text: str
    label: str  # abuse | spam | prohibited | safe
    split: str  # train | dev | test
    source: str  # cold | own


def read_cold(folder: Path) -> list[Line]:
    out: list[Line] = []
    for split in ("train", "dev", "test"):
        path = folder / f"{split}.csv"
        if not path.is_file():
            raise SystemExit(f"{path} is missing: copy COLD's CSVs there (see the model card)")
        with path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                label = "abuse" if row["label"] == "1" else "safe"
                out.append(Line(row["TEXT"], label, split, "cold"))
    return out


def read_own() -> list[Line]:
    slots: dict[str, list[str]] = {}
    for raw in (TRAINING / "slots.tsv").read_text("utf-8").splitlines():
        if raw and not raw.startswith("#"):
            name, values = raw.split("\t")
            slots[name] = values.split("|")
    out: list[Line] = []
    for raw in (TRAINING / "lines.tsv").read_text("utf-8").splitlines():
        if not raw or raw.startswith("#"):
            continue
        label, text = raw.split("\t")
        digest = hashlib.sha1(text.encode()).digest()
        split = "dev" if digest[0] % 5 == 0 else "train"
        rng = random.Random(digest)
        if not SLOT.search(text):
            out.append(Line(text, label, split, "own"))
            continue
        seen: set[str] = set()

        def pick(m: re.Match[str], rng: random.Random = rng) -> str:
            return rng.choice(slots[m.group(1)])

        for _ in range(EXPANSIONS):
            filled = SLOT.sub(pick, text)
            if filled not in seen:
                seen.add(filled)
                out.append(Line(filled, label, split, "own"))
    return out


def features(texts: list[str], vocab: dict[str, int]) -> sparse.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, text in enumerate(texts):
        view = learned.view_of(text)
        n = learned.positions(len(view))
        if not n:
            continue
        w = 1.0 / np.sqrt(n)
        for g in learned.ngrams(view):  # every occurrence: duplicates add up in the CSR
            j = vocab.get(g)
            if j is not None:
                rows.append(i)
                cols.append(j)
                vals.append(w)
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocab)))
    x.sum_duplicates()
    return x


def build_vocab(texts: list[str], min_df: int = 2) -> dict[str, int]:
    df: dict[str, int] = {}
    for text in texts:
        for g in set(learned.ngrams(learned.view_of(text))):
            df[g] = df.get(g, 0) + 1
    kept = sorted(g for g, n in df.items() if n >= min_df)
    return {g: i for i, g in enumerate(kept)}


def fit(x: sparse.csr_matrix, y: np.ndarray, weight: np.ndarray, c: float) -> LogisticRegression:
    clf = LogisticRegression(C=c, solver="liblinear", max_iter=2000, random_state=0)
    clf.fit(x, y, sample_weight=weight)
    return clf


def log_count_ratio(x: sparse.csr_matrix, y: np.ndarray) -> np.ndarray:
    """Per n-gram, log of its share of the offensive lines that hold it over its share of
    the safe ones (add-one smoothed): the NB-SVM scaling of Wang and Manning (2012).
    Scaling the features by it lets the L2 penalty favour n-grams that separate the
    classes; serving stays linear, since the scale folds into the weights."""
    present = (x > 0).astype(np.float64)
    pos = np.asarray(present[y == 1].sum(axis=0)).ravel() + 1.0
    neg = np.asarray(present[y == 0].sum(axis=0)).ravel() + 1.0
    return np.asarray(np.log((pos / pos.sum()) / (neg / neg.sum())))


def to_label_model(
    label: str, coef: np.ndarray, bias: float, vocab: list[str], keep: int
) -> learned.LabelModel:
    order = np.argsort(-np.abs(coef))[:keep]
    weights = {vocab[j]: float(coef[j]) for j in order if abs(coef[j]) > 1e-3}
    return learned.LabelModel(label, bias, 0.5, weights)


def log_loss(y: np.ndarray, z: np.ndarray) -> float:
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-7
    return float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))


def threshold_for(
    scores: np.ndarray, safe: np.ndarray, budget: float, already: np.ndarray | None = None
) -> float:
    """The lowest threshold whose flags (with ``already`` flagged lines) stay in budget on
    the safe lines."""
    if already is None:
        already = np.zeros_like(safe)
    candidates = np.unique(np.round(scores, 4))
    best = 0.999
    for t in sorted(candidates, reverse=True):
        flagged = (scores >= t) | already
        if flagged[safe].mean() > budget:
            break
        best = float(t)
    return max(best, 0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", type=Path, default=ROOT / "data" / "cold")
    ap.add_argument("--out", type=Path, default=learned.WEIGHTS_PATH)
    ap.add_argument("--keep", type=int, default=20_000, help="abuse n-grams kept at most")
    ap.add_argument("--keep-own", type=int, default=5_000, help="spam/prohibited n-grams kept")
    ap.add_argument(
        "--abuse-model",
        choices=("ensemble", "counts", "nb"),
        default="counts",
        help="abuse: counts (shipped), NB-scaled, or the mean of the two",
    )
    ap.add_argument("--budget", type=float, default=ABUSE_COLD_SAFE_BUDGET,
                    help="share of COLD dev's safe comments rules + model may flag")  # fmt: skip
    args = ap.parse_args()

    lines = read_cold(args.cold) + read_own()
    train = [ln for ln in lines if ln.split == "train"]
    dev = [ln for ln in lines if ln.split == "dev"]
    test = [ln for ln in lines if ln.split == "test"]
    own_train = sum(ln.source == "own" for ln in train)
    own_dev = sum(ln.source == "own" for ln in dev)
    print(f"train {len(train)} dev {len(dev)} test {len(test)} "
          f"(own lines: {own_train} train, {own_dev} dev)")  # fmt: skip
    vocab = build_vocab([ln.text for ln in train])
    inverse = sorted(vocab, key=vocab.__getitem__)
    print(f"vocabulary {len(vocab)} n-grams (min_df 2)")
    x_train = features([ln.text for ln in train], vocab)
    x_dev = features([ln.text for ln in dev], vocab)

    # Rules alone on dev, so the abuse threshold leaves room for what they already flag.
    rules = Checker(watch_interval=None, cache_size=0, model=None)
    dev_rules = np.array([not rules.check("chat", ln.text).allowed for ln in dev])

    models: list[learned.LabelModel] = []
    for label in learned.MODEL_LABELS:
        y = np.array([ln.label == label for ln in train], dtype=int)
        # Own lines are few beside COLD's 25,000 comments: weigh them up, and everyday
        # talk most, since a false hit there holds a buyer's chat line.
        weight = np.array(
            [(4.0 if ln.label == "safe" else 2.0) if ln.source == "own" else 1.0 for ln in train]
        )
        if label != "abuse":
            weight = weight * np.where(y == 1, 2.0, 1.0)
        y_dev = np.array([ln.label == label for ln in dev])
        keep = args.keep if label == "abuse" else args.keep_own
        kinds = ("counts",) if label != "abuse" else _KINDS[args.abuse_model]
        grid = (4.0, 16.0)
        if label == "abuse":  # the shipped counts model was picked from (2, 8, 32)
            grid = (2.0, 8.0, 32.0) if kinds == ("counts",) else (4.0, 8.0, 16.0, 32.0)
        members: dict[str, list[tuple[float, np.ndarray, float]]] = {}
        for kind in kinds:
            scale = log_count_ratio(x_train, y) if kind == "nb" else None
            xs_train = x_train if scale is None else (x_train @ sparse.diags(scale)).tocsr()
            members[kind] = []
            for c in grid:
                clf = fit(xs_train, y, weight, c)
                coef = clf.coef_[0] if scale is None else clf.coef_[0] * scale
                members[kind].append((c, coef, float(clf.intercept_[0])))
        # One linear model per member; their mean is linear too (the weights average), so
        # an ensemble serves as one model. Dev log-loss picks each member's C jointly.
        best: tuple[float, str, np.ndarray, float] | None = None
        for combo in itertools.product(*members.values()):
            coef = np.mean([m[1] for m in combo], axis=0)
            bias = float(np.mean([m[2] for m in combo]))
            loss = log_loss(y_dev, x_dev @ coef + bias)
            name = " + ".join(f"{k} C={m[0]:g}" for k, m in zip(members, combo, strict=True))
            print(f"  {label} {name}: dev log-loss {loss:.4f}")
            if best is None or loss < best[0]:
                best = (loss, name, coef, bias)
        assert best is not None
        lm = to_label_model(label, best[2], best[3], inverse, keep)
        print(f"{label}: {best[1]}, {len(lm.weights)} n-grams kept")
        models.append(lm)

    # Thresholds on dev with the pruned, float16-rounded model that ships.
    model = learned.load(learned.dump(models, {}))
    dev_scores = {
        label: np.array([model.scores(ln.text)[label] for ln in dev])
        for label in learned.MODEL_LABELS
    }
    everyday = np.array([ln.source == "own" and ln.label == "safe" for ln in dev])
    cold_safe = np.array([ln.source == "cold" and ln.label == "safe" for ln in dev])
    final: list[learned.LabelModel] = []
    for lm in model.labels:
        s = dev_scores[lm.label]
        t_everyday = threshold_for(s, everyday, EVERYDAY_BUDGET)
        t = t_everyday
        if lm.label == "abuse":
            t = max(t, threshold_for(s, cold_safe, args.budget, dev_rules))
        else:
            # A few hundred hand-written lines make a confident but narrow model: ask it
            # for at least OWN_FLOOR, whatever the small dev split would allow.
            t = max(t, threshold_for(s, cold_safe, 0.002), OWN_FLOOR)
        final.append(learned.LabelModel(lm.label, lm.bias, t, lm.weights))
        print(f"{lm.label}: threshold {t:.4f}")

    meta = {
        "trained_on": "COLD train (abuse) + scripts/compliance_training (spam, prohibited, safe)",
        "cold_counts": {
            s: sum(ln.source == "cold" and ln.split == s for ln in lines)
            for s in ("train", "dev", "test")
        },
        "own_counts": {
            s: sum(ln.source == "own" and ln.split == s for ln in lines) for s in ("train", "dev")
        },
    }
    blob = learned.dump(final, meta)
    if len(blob) > MAX_BYTES:
        raise SystemExit(f"weights are {len(blob)} bytes (> {MAX_BYTES}): lower --keep")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    print(f"wrote {args.out} ({len(blob)} bytes)")
    report(learned.load(blob), lines, rules)


def report(model: learned.Model, lines: list[Line], rules: Checker) -> None:
    """Figures per split with the shipped model (model alone, and rules + model)."""
    full = Checker(watch_interval=None, cache_size=0, model=model)
    for split in ("train", "dev", "test"):
        cold = [ln for ln in lines if ln.source == "cold" and ln.split == split]
        if cold:
            alone = np.array([any(h.label == "abuse" for h in model.hits(ln.text)) for ln in cold])
            if split == "test":
                curve(model, cold)
            both = np.array([not full.check("chat", ln.text).allowed for ln in cold])
            truth = np.array([ln.label == "abuse" for ln in cold])
            for name, pred in (("model", alone), ("rules+model", both)):
                acc = (pred == truth).mean()
                recall, flagged = pred[truth].mean(), pred[~truth].mean()
                print(f"COLD {split} {name}: accuracy {acc:.3f}, offensive recall "
                      f"{recall:.3f}, safe flagged {flagged:.3f}")  # fmt: skip
        own = [ln for ln in lines if ln.source == "own" and ln.split == split]
        for label in ("spam", "prohibited", "safe"):
            part = [ln for ln in own if ln.label == label]
            if not part:
                continue
            hit = np.array([bool(model.hits(ln.text)) for ln in part])
            print(f"own {split} {label}: {len(part)} lines, model flags {hit.mean():.3f}")


def curve(model: learned.Model, cold: list[Line]) -> None:
    """Test figures at other thresholds, reported only (the shipped one is dev's)."""
    s = np.array([model.scores(ln.text)["abuse"] for ln in cold])
    truth = np.array([ln.label == "abuse" for ln in cold])
    for t in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        pred = s >= t
        print(f"  COLD test model at {t}: accuracy {(pred == truth).mean():.3f}, "
              f"safe flagged {pred[~truth].mean():.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
