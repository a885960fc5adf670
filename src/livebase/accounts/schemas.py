from __future__ import annotations

from pydantic import Field

from livebase.schemas import Body, Text


class RegisterIn(Body):
    username: Text = Field(max_length=64)
    password: Text = Field(max_length=1024)
    display_name: Text | None = Field(default=None, max_length=64)


class TokenIn(Body):
    username: Text = Field(max_length=64)
    password: Text = Field(max_length=1024)
