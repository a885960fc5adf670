"""Structured logs: one JSON object a line (or readable key=value lines for a terminal).

livebase's own loggers are structlog's native ones: filtered by level before anything is
built, rendered once and written straight to stderr. The request log writes a line for
every request, and going through the standard library's logging (a LogRecord, a frame walk
to find the caller, handler locks, a second formatting pass) cost about a third of what a
request to /healthz costs (issue 18 item 0b). Libraries that log through the standard
library (uvicorn, SQLAlchemy) get the same processors and renderer, so every line in the
stream has one format.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO, cast

import structlog


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's WriteLogger with a name, so ``add_logger_name`` can put it in the line."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self._file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(self._file, str(args[0]) if args else "livebase")


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    numeric = logging.getLevelNamesMapping().get(level, logging.INFO)
    stamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    _request_line.configure(renderer, stamper, sys.stderr, enabled=numeric <= logging.INFO)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_NamedWriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.processors.format_exc_info],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn's access log repeats what our request log says, in another format.
    logging.getLogger("uvicorn.access").handlers = []
    logging.getLogger("uvicorn.access").propagate = False


class _RequestLine:
    """The request log's line: every request writes one, so it skips the bound logger's
    processor chain (a context copy, contextvars scan, level and name lookups, about two
    thirds of a log call) and goes straight to the configured renderer: the same format,
    the same stream, the same fields as ``get_logger("livebase.request").info(...)`` with
    the request id bound would write."""

    def __init__(self) -> None:
        self._render: structlog.typing.Processor | None = None
        self._stamp: structlog.typing.Processor | None = None
        self._file: TextIO = sys.stderr
        self.enabled = False

    def configure(
        self,
        render: structlog.typing.Processor,
        stamp: structlog.typing.Processor,
        file: TextIO,
        *,
        enabled: bool,
    ) -> None:
        self._render, self._stamp, self._file, self.enabled = render, stamp, file, enabled

    def __call__(self, event_dict: dict[str, Any]) -> None:
        if not self.enabled or self._render is None or self._stamp is None:
            return
        event_dict["event"] = "request"
        event_dict["level"] = "info"
        event_dict["logger"] = "livebase.request"
        stamped = cast("dict[str, Any]", self._stamp(None, "info", event_dict))
        line = self._render(None, "info", stamped)
        self._file.write(f"{line!s}\n")
        self._file.flush()


_request_line = _RequestLine()


def log_request(**fields: Any) -> None:
    """Write the request log's line for one request (see _RequestLine)."""
    _request_line(fields)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
