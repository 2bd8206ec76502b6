"""The station's SQLite store: every file seen, every result, its curves and its outbox row."""
