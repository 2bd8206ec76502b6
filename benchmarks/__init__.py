"""`make bench`: figures, not assertions."""
