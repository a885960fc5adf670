"""Audit records: who changed the state of what, and when."""
