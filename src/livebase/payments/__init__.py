"""Payments: the provider seam (sandbox | WeChat Pay v3), payments, callbacks, refunds."""
