"""The text policy: which characters a field of text may hold, and the one form it is kept in.

Every input path applies it before anything is recorded: JSON bodies (the string types of
api/schemas.py), every query and path parameter (api/params.py), Open311 posts, the web
UI's forms (they validate with the API's models; sign-in checks the name) and the CLI's
names, labels and grids. So the event log and the read models receive only text that
PostgreSQL can store and that shows what it says.

Refused in every field:
- C0 and C1 control characters, U+0000–U+001F and U+007F–U+009F (NUL among them: a
  PostgreSQL text value cannot hold it), except tab, and except line breaks (LF, CR) in
  multi-line fields;
- unpaired surrogates (U+D800–U+DFFF): not characters; UTF-8 cannot carry them.

Refused in single-line fields only:
- line breaks, including U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR;
- bidirectional overrides and isolates, U+202A–U+202E and U+2066–U+2069: in a name, a
  title or a reference they can make text display as something else (a reversed phone
  number, a disguised grid). Free text in Arabic or Hebrew may need them, so multi-line
  fields keep them.

Accepted text is normalised to NFC (an "e" followed by U+0301 COMBINING ACUTE ACCENT is kept
as the one character "é"), and in multi-line fields every line break (CRLF, CR) is kept as
LF, so the same words are always stored as the same characters.

| field | kind |
| --- | --- |
| concern `description` (also Open311's `description`) | multi-line |
| `note`: refer, handle-now, assign, merge, record-progress | multi-line |
| `reason`: decline, withdraw, extend-deadline, reassign, send-back, reopen | multi-line |
| `missing` (return-for-info), `summary` (resolve) | multi-line |
| `comment`: feedback, on the API and the tracking page | multi-line |
| meeting `minutes`, visit `notes`, webhook `description` | multi-line |
| supervision `requirement` and `reply` | multi-line |
| `reason` of extensions, suspensions, voids and appeals | multi-line |
| titles, grids, buildings, addresses, households | single-line |
| residents' names and phones, member names, resident representatives | single-line |
| meeting `place` and `rules`; webhook `url`, `secret`, `event_types` | single-line |
| every query and path parameter | single-line |
| Open311's other fields, the sign-in name | single-line |
| the CLI's names, labels, grids and ids | single-line |
| passwords: only a hash is kept; a changed character would lock the owner out | not checked |
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import Invalid

# The longest free text a command takes (a reason, a note, a reply …), in characters.
TEXT_MAX = 2000

# Characters refused in every field (tab, LF and CR are handled by kind).
_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
_LINE_BREAKS = "\n\r\u2028\u2029"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_SINGLE_LINE_REFUSED = re.compile(f"[{_ALWAYS}{_LINE_BREAKS}{_BIDI}]")
_MULTI_LINE_REFUSED = re.compile(f"[{_ALWAYS}]")
_NEWLINES = re.compile("\r\n?")


class TextRefused(ValueError):
    """Text the policy refuses; the message says why, in words a person understands."""


def _why(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char in _LINE_BREAKS:
        return f"contains a line break ({code}), which is not allowed in a single-line field"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return (
            f"contains a bidirectional override or isolate ({code}), which is not allowed"
            " in a single-line field"
        )
    if "\ud800" <= char <= "\udfff":
        return f"contains an unpaired surrogate ({code}), which is not a character"
    return f"contains a control character ({code}), which is not allowed"


def normalise(text: str) -> str:
    """`text` in Unicode normal form C."""
    return unicodedata.normalize("NFC", text)


def check_single_line(text: str) -> str:
    """`text` normalised, or TextRefused naming the first character a one-line field may
    not hold (control characters but tab, line breaks, bidirectional controls)."""
    found = _SINGLE_LINE_REFUSED.search(text)
    if found:
        raise TextRefused(_why(found.group()))
    return normalise(text)


def check_multi_line(text: str) -> str:
    """`text` normalised with its line breaks as LF, or TextRefused naming the first
    control character other than tab and line breaks."""
    found = _MULTI_LINE_REFUSED.search(text)
    if found:
        raise TextRefused(_why(found.group()))
    return normalise(_NEWLINES.sub("\n", text))


def problem(text: str, *, multi_line: bool = False) -> str | None:
    """Why the policy refuses `text` (None: it does not)."""
    try:
        (check_multi_line if multi_line else check_single_line)(text)
    except TextRefused as refused:
        return str(refused)
    return None


def filled(field: str, value: str | None, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    """`value` stripped; 422 naming `field` when it is blank but required, or too long."""
    text = (value or "").strip()
    if required and not text:
        raise Invalid([(field, "is required and must not be blank")])
    if len(text) > limit:
        raise Invalid([(field, f"must be at most {limit} characters")])
    return text
