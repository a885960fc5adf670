"""What incubation adds to the runtime: the rollup of a show written when it ends.

A ``features.Subscription`` handler gets only the event, with no way to the runtime's
sessions; a part's build subscribes a closure over ``rt.sessions`` instead (as the lucky
bag's entry recorder does). It runs after the show's end committed, on the committing
thread; a failure is logged by the dispatcher and the recurring job
(``incubation.refresh_rollups``, every 2 minutes) writes the row instead.
"""

from __future__ import annotations

from collections.abc import Callable

from livebase.incubation import figures
from livebase.runtime import Part, Runtime
from livebase.shows.events import ShowEnded


def _build(rt: Runtime) -> Callable[[ShowEnded], None]:
    def rollup_ended_show(event: ShowEnded) -> None:
        with rt.sessions() as db, db.begin():
            figures.do_refresh_rollups(db, show_ids=[event.show_id])

    rt.events.subscribe(ShowEnded, rollup_ended_show)
    return rollup_ended_show


ROLLUP_ON_END: Part[Callable[[ShowEnded], None]] = Part("incubation.rollup_on_end", _build)
