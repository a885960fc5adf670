from __future__ import annotations

from pydantic import Field

from livebase.schemas import Body, Text


class PaymentIn(Body):
    # Required (DESIGN §5 names it): a client says which provider it is paying with.
    # The provider's name ("sandbox", or "wechat" where a merchant configured it); which
    # ones exist is checked against the runtime's providers, not a fixed list here.
    provider: Text = Field(min_length=1, max_length=20)
