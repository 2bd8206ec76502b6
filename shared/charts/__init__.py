"""One SVG chart toolkit for both programs: the station's pages and central's dashboard.

Why plain SVG strings built in Python: the station has no internet and central may run
on a closed network, so no page ships a chart library; the browser draws what the
server computed, and a page works without JavaScript. Everything here is pure (no
Flask, no I/O) and deterministic (the same input gives the same bytes), every piece of
text is escaped, and numbers are finite-checked before they become coordinates.

The primitives, once:
- `numbers`: numbers as people read them (`format_number`, `signed`, `plain_number`).
- `scale`: nice ticks, padded ranges and the linear map from data to the viewBox.
- `paths`: polylines with a gap at every missing value, bands, dot strips.
- `svg`: coordinates, escaped text, the `<svg>` document and the no-data chart.
- `palette`: the colours every dashboard chart draws with.
- `axes`: the dashboard's frame, axes with units, reference lines, legends, marks.

The charts on top, one module each:
- `track`: one track's error curve in its spec band, and its trim history
  (both programs' unit pages); `track_words` says the verdict's adjustment in words.
- `series`: line charts over time and stacked bars (the model page).
- `spc`: I-MR control charts, CUSUM and EWMA (the model page).
- `distribution`: histograms and box plots (the model page).
"""
