"""QA's model-spec table at central: stored, versioned and audited, imported and exported,
edited on /specs with a preview of what a change does, pushed to stations, and the learned
sigma thresholds QA approves into it (docs/decisions/0020-central-model-specs.md).

Its own package so the spec concept stays in one place: the record (`record`), the
plant's free-text cells (`freetext`), files in and out (`files`), PostgreSQL
(`store`), the what-would-change preview (`preview`), learned thresholds (`sigma`)
and the web pages and station API (`web`, `api`).
"""
