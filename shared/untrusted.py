"""Text that came from a station or a file, made safe to show, log or put in a cell.

Model names, serials, file names and notes are written by station programs,
by whoever named a file, or by a hostile station. They may hold control
characters (which forge log lines, or break an Excel export), and Unicode
direction overrides (which make `evil.exe‮slx.` read as `evil.exe.xls`).
Everything that shows such text to a person goes through here, so the rule
lives in one place (docs/security.md):

- `visible`: every control and direction character becomes a visible escape
  (`\\x1b`, `\\u202e`); for one-line places: log records, Excel cells, names.
- `visible_keeping_layout`: the same, but tabs and line breaks are kept; for
  page text, where HTML escaping is done by the template engine.
"""

from __future__ import annotations

import re

from markupsafe import Markup

# C0 controls, DEL, C1 controls; Unicode bidirectional formatting characters
# (ALM, LRM, RLM, LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI); line and paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_LAYOUT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control or direction character shown as an escape, on one line."""
    return _UNSAFE.sub(_escape, text)


def visible_keeping_layout(text: str) -> str:
    """Like `visible`, but tabs, line feeds and carriage returns stay as they are."""
    return _UNSAFE_BUT_LAYOUT.sub(_escape, text)


def template_text(value: object) -> object:
    """Jinja's `finalize`: every `{{ ... }}` that is text is shown by `visible_keeping_layout`.

    Set on both web apps, so no template can forget it; markup stays markup (the
    characters replaced are never HTML syntax).
    """
    if isinstance(value, Markup):
        # Already markup; the characters replaced are never HTML syntax.
        return Markup(visible_keeping_layout(str(value)))  # noqa: S704
    if isinstance(value, str):
        return visible_keeping_layout(value)
    return value
