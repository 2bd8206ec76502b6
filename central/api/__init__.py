"""The read API: every dashboard figure as JSON (and its tables as CSV) for QA's own tools.

`routes.py` the views and their OpenAPI declarations, `figures.py` the bodies
from the pages' own queries, `schemas.py` the bodies' models, `openapi.py`
the document, `access.py` who may read, `csv_table.py` formula-safe CSV
(docs/decisions/0023-read-api.md).
"""
