from tests.web.conftest import browser

__all__ = ["browser"]
