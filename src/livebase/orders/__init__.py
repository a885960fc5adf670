"""Orders: addresses, checkout, flash sales, coupons, expiry, refunds (DESIGN §5)."""
