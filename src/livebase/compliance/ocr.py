"""Text inside images: product pictures are where sellers write 加V and prices.

A feature that stores an image enqueues ``compliance.ocr_image`` (the outbox: the job
runs once the upload's transaction commits) with the file's absolute path, its subject
(``product_image`` and the image id), base and author. The job reads the text with
Tesseract (Debian's ``tesseract-ocr`` + ``tesseract-ocr-chi-sim``, run as a subprocess with
a timeout so a pathological picture cannot hold a worker), checks it as a ``listing``,
and tells the owning feature the outcome through the handler it registered
(`register_image_handler`): ``ok`` or ``held``. A held image goes to the review queue as
an item of its own (subject ``product_image``, with ``image_path`` so the queue page shows
the picture beside the recognised text); the product itself stays as it is. The
moderator's decision goes back through the resolver of the same subject type. Catalog
registers ``product_image``, shows ``show_cover``, incubation ``host_photo``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from livebase.compliance import CheckContext, check
from livebase.compliance.service import do_submit_for_review, register_resolver

OCR_JOB: Final = "compliance.ocr_image"
LANGUAGES: Final = "chi_sim+eng"
TIMEOUT_S: Final = 30.0
MAX_TEXT: Final = 4000

# (db, the job's payload, status "ok" | "held", recognised text) -> None; the payload
# names the subject and the picture's URL, so a handler can ignore a stale picture.
ImageHandler = Callable[[Session, dict[str, Any], str, str], None]
_HANDLERS: dict[str, ImageHandler] = {}


class OcrUnavailable(RuntimeError):
    """Tesseract is not installed (see scripts/system-deps.sh)."""


def register_image_handler(subject_type: str, fn: ImageHandler) -> None:
    _HANDLERS[subject_type] = fn


def register_single_picture(
    subject_type: str, model: type[Any], path_attr: str, status_attr: str
) -> None:
    """For a row with one picture (a show's cover, a host's photo): the check's outcome goes
    to ``status_attr`` unless the picture was replaced since, and a moderator's decision
    turns a held picture "ok" or "rejected"."""

    def checked(db: Session, payload: dict[str, Any], status: str, text: str) -> None:
        row = db.get(model, str(payload["subject_id"]))
        if row is not None and f"/uploads/{getattr(row, path_attr)}" == payload.get("image_url"):
            setattr(row, status_attr, status)
            db.flush()

    def resolve(db: Session, subject_id: str, approve: bool, reason: str | None) -> None:
        row = db.get(model, subject_id)
        if row is not None and getattr(row, status_attr) == "held":
            setattr(row, status_attr, "ok" if approve else "rejected")
            db.flush()

    register_image_handler(subject_type, checked)
    register_resolver(subject_type, resolve)


def tesseract() -> str:
    path = shutil.which("tesseract")
    if path is None:
        raise OcrUnavailable("tesseract is not installed: apt-get install tesseract-ocr")
    return path


PSM_BLOCK: Final = 6  # a picture that is mostly text (a product card, a cover)
PSM_AUTO: Final = 3  # find the text blocks first: a few words on a busy picture (a video frame)


def read_text(path: Path, *, timeout: float = TIMEOUT_S, psm: int = PSM_BLOCK) -> str:
    """The text Tesseract recognises in the image at ``path`` (Simplified Chinese and
    English), whitespace between CJK characters removed, lines kept. ``psm`` is
    Tesseract's page segmentation mode."""
    done = subprocess.run(
        [tesseract(), str(path), "stdout", "-l", LANGUAGES, "--psm", str(psm)],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"tesseract failed: {err[-1] if err else done.returncode}")
    lines = [_join_cjk(line) for line in done.stdout.decode("utf-8", "replace").splitlines()]
    return "\n".join(line for line in lines if line)[:MAX_TEXT]


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def _join_cjk(line: str) -> str:
    """Tesseract puts a space between Chinese characters (加 V : abc); drop those next
    to a CJK character so the text reads as it was written."""
    words = line.split()
    out = ""
    for w in words:
        if out and not (_is_cjk(out[-1]) or _is_cjk(w[0])):
            out += " "
        out += w
    return out


def ocr_image(db: Session, payload: dict[str, Any]) -> None:
    """Job handler: read, check, report to the owner, queue a held image."""
    subject_type = str(payload["subject_type"])
    subject_id = str(payload["subject_id"])
    path = Path(str(payload["path"]))
    base_id = payload.get("base_id")
    handler = _HANDLERS.get(subject_type)
    if not path.is_file():
        return  # deleted before the job ran: nothing to check
    text = read_text(path)
    verdict = check("listing", text, CheckContext(base_id=base_id)) if text else None
    status = "held" if verdict is not None and not verdict.allowed else "ok"
    if handler is not None:
        handler(db, payload, status, text)
    if verdict is not None and status == "held":
        do_submit_for_review(
            db,
            kind="listing",
            subject_type=subject_type,
            subject_id=subject_id,
            text=text,
            verdict=verdict,
            base_id=base_id,
            author_id=payload.get("author_id"),
            image_path=payload.get("image_url"),
        )
