"""Rooms: the ``rooms.Bus`` seam and the typed frames other features publish through it
(the room socket, hub and chat arrive with issue 13)."""
