"""Every feature's tables on one metadata, for Alembic and for tests."""

from __future__ import annotations

from livebase.accounts import models as _accounts  # noqa: F401
from livebase.audit import models as _audit  # noqa: F401
from livebase.bases import models as _bases  # noqa: F401
from livebase.catalog import models as _catalog  # noqa: F401
from livebase.compliance import models as _compliance  # noqa: F401
from livebase.db import Base
from livebase.jobs import models as _jobs  # noqa: F401
from livebase.shows import models as _shows  # noqa: F401

metadata = Base.metadata
