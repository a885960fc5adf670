"""WebSocket endpoints served from the ASGI entry (the features' ``sockets``).

A WebSocket that goes through the app's HTTP stack keeps that stack for its whole life:
FastAPI's and Starlette's entry, the error and telemetry middleware, each of our
middlewares' suspended frames, the router's, and FastAPI's dependency machinery (an
``AsyncExitStack`` and the solved values) around the endpoint. For a request that is
microseconds of garbage; for a viewer who watches for an hour it is memory held per
connection. Measured with 1,000 idle viewers of one room (docs/realtime.md "Memory"):
25.8 KiB per connection through the stack, about 13 KiB served from here.

:class:`Sockets` is consulted first by the app's ``__call__`` (``livebase.app``): a
``websocket`` scope whose path is a registered prefix plus one segment goes to its
handler as a Starlette ``WebSocket``; everything else (every HTTP request, other
WebSocket paths, which the router answers with its usual 403 close) takes the normal
path. None of the app's middleware acts on WebSockets (each passes non-HTTP scopes on),
so skipping them changes no behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket


class Sockets:
    def __init__(self, handlers: Mapping[str, Callable[..., Any]]) -> None:
        self.handlers = dict(handlers)

    def match(self, path: str) -> tuple[Callable[..., Any], str] | None:
        head, sep, segment = path.rpartition("/")
        if not sep or not segment:
            return None
        handler = self.handlers.get(head + "/")
        return (handler, segment) if handler is not None else None

    async def serve(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> bool:
        """Serve ``scope`` if it is one of ours (True), else leave it alone (False)."""
        if scope["type"] != "websocket" or not self.handlers:
            return False
        found = self.match(scope["path"])
        if found is None:
            return False
        handler, segment = found
        scope["app"] = app  # what WebSocket.app reads (state, the runtime)
        scope["path_params"] = {"id": segment}
        await handler(WebSocket(scope, receive, send), segment)
        return True
