from __future__ import annotations

from pydantic import Field

from livebase.schemas import Body, Name, Text


class RegisterIn(Body):
    # The same rule as accounts.service.USERNAME_RE, so the document shows it.
    username: Text = Field(pattern=r"^[a-z0-9_]{3,32}$")
    password: Text = Field(min_length=8, max_length=128)
    display_name: Name | None = Field(default=None, max_length=64)


class TokenIn(Body):
    # Sign-in takes any name (an unknown one is just bad_credentials), within bounds.
    username: Text = Field(max_length=64)
    password: Text = Field(max_length=1024)
