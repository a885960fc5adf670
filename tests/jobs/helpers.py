"""What the job tests share: a child process's environment pointing at the test database."""

from __future__ import annotations

import os

from livebase.runtime import Runtime


def child_env(rt: Runtime) -> dict[str, str]:
    """The environment a `livebase` process needs to use ``rt``'s database and data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(
        LIVEBASE_DEMO="1",
        LIVEBASE_DATA_DIR=str(rt.settings.data_dir),
        LIVEBASE_DATABASE_URL=rt.settings.sqlalchemy_url,
        LIVEBASE_LOG_LEVEL="WARNING",
    )
    return env
