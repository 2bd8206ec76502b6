"""The central service: collects every station's results in PostgreSQL for QA."""
