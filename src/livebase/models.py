"""Every feature's tables on one metadata, for Alembic and for tests (the features are
those of ``livebase.features``)."""

from __future__ import annotations

from livebase.db import Base
from livebase.features import import_models

import_models()
metadata = Base.metadata
