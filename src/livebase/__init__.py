"""livebase: a self-hostable live-commerce platform for a live-commerce base (直播电商基地)."""

__version__ = "0.1.0"
