"""Who acts: a signed-in user (:class:`Principal`) or the system on its own behalf.

``check_*`` functions decide whether a *user* may do something; ``do_*`` functions change
data for whichever actor the caller names and record it. Timed jobs, the media server's
callbacks, payment and customs callbacks, the CLI and the demo loader act as a
:class:`SystemActor`: they have no user to authorise, but the audit records still say who
did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # accounts.service records grants through audit, which names actors
    from livebase.accounts.service import Principal


@dataclass(frozen=True)
class SystemActor:
    """The platform acting by itself; ``name`` is what audit records show."""

    name: str

    def __post_init__(self) -> None:
        # Audit columns are 40 characters, like the user ids they sit beside.
        if not self.name.startswith("system:") or len(self.name) > 40:
            raise ValueError(f"A system actor is named system:<what>, got {self.name!r}.")


SYSTEM_JOBS = SystemActor("system:jobs")
SYSTEM_MEDIA = SystemActor("system:media")
SYSTEM_PAYMENTS = SystemActor("system:payments")
SYSTEM_CUSTOMS = SystemActor("system:customs")
SYSTEM_CLI = SystemActor("system:cli")
SYSTEM_DEMO = SystemActor("system:demo")

Actor: TypeAlias = "Principal | SystemActor"


def actor_name(actor: Actor) -> str:
    """What an audit record names: the user's id, or the system actor's name."""
    return actor.name if isinstance(actor, SystemActor) else actor.id


def actor_user_id(actor: Actor) -> str | None:
    """The acting user's id for columns that point at a user (authors); None for the system."""
    return None if isinstance(actor, SystemActor) else actor.id
