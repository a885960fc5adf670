"""Form errors stay on the form: the field's message next to the field, in the page's
language, with what was typed kept.

A page's POST handler that can fail on its input names the page that shows its form
with :func:`form_page`; when the handler raises a validation error (ours or FastAPI's),
the page route (render.PageRoute) calls that renderer with the submitted values and the
field errors instead of sending the visitor to a separate error page.

Messages: a :class:`FieldError` names its own catalog key (``form.err.sku_attrs.plain``);
otherwise the key is ``form.err.<field>`` (without a row index), then a message by the
kind of mistake (missing, too long, not one of the choices), then the English detail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.orm import Session

from livebase.errors import ApiError, ValidationFailed
from livebase.web.i18n import Translator

# (request, db, user, values, errors) → the form's page again, answered with 422.
FormRenderer = Callable[[Request, Session, Any, "FormValues", dict[str, str]], Response]
_ATTR = "livebase_form_page"
# FastAPI's error types for form fields, by the message people read.
_KINDS = {
    "missing": "form.err.required",
    "string_too_short": "form.err.required",
    "string_too_long": "form.err.too_long",
    "string_pattern_mismatch": "form.err.choice",
    "literal_error": "form.err.choice",
    "enum": "form.err.choice",
}


# Domain errors that are about one field although they carry no ``fields``.
_CODE_FIELDS = {"username_taken": "username"}


class FieldError(ValidationFailed):
    """A form field's mistake with its own message key (and values for the message)."""

    def __init__(self, detail: str, *, loc: str, key: str, **values: object) -> None:
        super().__init__(detail, loc=loc)
        self.key = key
        self.values = values


class FormValues:
    """What was posted: ``values["title"]`` is the last value, ``values.all("sku_attrs")``
    every value of a repeated field."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    def __getitem__(self, name: str) -> str:
        return self.get(name)

    def get(self, name: str, default: str = "") -> str:
        found = [v for k, v in self._items if k == name]
        return found[-1] if found else default

    def all(self, name: str) -> list[str]:
        return [v for k, v in self._items if k == name]


def _field(loc: str) -> str:
    return loc.removeprefix("body.")


def _base(field: str) -> str:
    return field.split(".")[0]


def field_errors(error: ApiError | RequestValidationError | None, t: Translator) -> dict[str, str]:
    """Field name (``title``, ``sku_attrs.1``) → the message for people, translated."""
    if error is None:
        return {}
    out: dict[str, str] = {}
    if isinstance(error, RequestValidationError):
        for e in error.errors():
            loc = [str(p) for p in e.get("loc", ()) if p != "body"]
            name = ".".join(loc) or "form"
            key = f"form.err.{_base(name)}"
            msg = t(key)
            if msg == key:
                kind = _KINDS.get(str(e.get("type", "")), "error.validation_failed")
                ctx = e.get("ctx") or {}
                msg = t(kind, max=ctx.get("max_length", ""))
            out.setdefault(name, msg)
        return out
    if not error.fields and error.code in _CODE_FIELDS:
        return {_CODE_FIELDS[error.code]: t(f"error.{error.code}")}
    if not error.fields and not isinstance(error, ValidationFailed):
        return {}  # not about the input (rate limited, expired form): the page says it
    for f in error.fields or [{"loc": "form", "msg": error.detail}]:
        name = _field(str(f["loc"]))
        if isinstance(error, FieldError) and name == _field(str(error.fields[0]["loc"])):  # type: ignore[index]
            msg = t(error.key, **error.values)
        else:
            key = f"form.err.{_base(name)}"
            msg = t(key)
            if msg == key:
                msg = t(f"error.{error.code}") if t.lang != "en" else str(f["msg"])
        out.setdefault(name, msg)
    return out


def form_page(renderer: FormRenderer) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a POST handler: its validation errors re-render ``renderer``'s page."""

    def mark(handler: Callable[..., Any]) -> Callable[..., Any]:
        setattr(handler, _ATTR, renderer)
        return handler

    return mark


def renderer_of(endpoint: Callable[..., Any]) -> FormRenderer | None:
    return getattr(endpoint, _ATTR, None)
