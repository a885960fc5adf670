from __future__ import annotations

from fastapi import APIRouter

from livebase.web.render import PageRoute

router = APIRouter(include_in_schema=False, route_class=PageRoute)
