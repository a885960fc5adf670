"""Files users upload (product pictures, show covers): checked by content, stored under
``LIVEBASE_DATA_DIR/uploads`` and served at ``/uploads``. Video belongs to ``media/``."""
