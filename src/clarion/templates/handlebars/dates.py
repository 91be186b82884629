"""Java ``SimpleDateFormat`` patterns in English: writing dates, and reading them back.

Reading is one left-to-right pass that never backtracks: a number takes every digit in front of
it, or exactly as many as its letters when a number field follows with nothing between them (as
in ``yyMMdd``) and for ``yy``; a name (``MMM``, ``E``, ``a``, ``G``) takes the longest English
word of its list; an offset takes ``UTC``, ``GMT``, ``Z`` or ``+hh``, ``+hhmm``, ``+hh:mm``.
Java reads patterns the same greedy way, and the time stays linear in the pattern and the date.
A regular expression built from the pattern did backtrack, exponentially (issue 10, item 3), so
the lengths are limited as well.

The code knows nothing of templates: it raises ``DateError`` and the helpers say whose fault it is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

MAX_PATTERN = 100
"""Characters in a pattern dates are read in."""

MAX_DATE = 200
"""Characters in a date read with a pattern, leading and trailing blanks aside."""

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
STYLES = {"full": "EEEE, MMMM d, y", "long": "MMMM d, y", "medium": "MMM d, y", "short": "M/d/yy"}
"""Java's ``en_US`` date styles by the names Pinpoint accepts for a format."""

_NUMERIC = frozenset("yMLdDFuHkKhmsS")
_LETTERS = _NUMERIC | frozenset("GEazZX")
_MONTH_NAMES = MONTHS + tuple(name[:3] for name in MONTHS)
_DAY_NAMES = DAYS + tuple(name[:3] for name in DAYS)
_ZONE_WORDS = ("UTC", "GMT", "Z")
_WORDS = {"M": _MONTH_NAMES, "L": _MONTH_NAMES, "E": _DAY_NAMES, "a": ("AM", "PM"), "G": ("AD",)}
_WANTED = {
    "M": "an English month name",
    "L": "an English month name",
    "E": "an English day name",
    "a": "AM or PM",
    "G": "AD",
    "z": "a UTC offset",
    "Z": "a UTC offset",
    "X": "a UTC offset",
}

Piece = str | tuple[str, int]


class DateError(ValueError):
    """A pattern that cannot be used, or a date that cannot be read or written."""


@lru_cache(maxsize=256)
def split_pattern(text: str) -> tuple[Piece, ...]:
    """A pattern as literal text and (letter, count) fields."""
    pieces: list[Piece] = []
    index, size = 0, len(text)
    while index < size:
        char = text[index]
        if char == "'":
            literal, index = _quoted(text, index)
            pieces.append(literal)
        elif char.isascii() and char.isalpha():
            end = index
            while end < size and text[end] == char:
                end += 1
            count = end - index
            if char not in _LETTERS or (char == "z" and count > 3) or (char == "X" and count > 3):
                raise DateError(f"date pattern {text!r}: {char * count!r} is not supported")
            pieces.append((char, count))
            index = end
        else:
            end = index
            while (
                end < size
                and text[end] != "'"
                and not (text[end].isascii() and text[end].isalpha())
            ):
                end += 1
            pieces.append(text[index:end])
            index = end
    return tuple(pieces)


def _quoted(text: str, index: int) -> tuple[str, int]:
    if text.startswith("''", index):
        return "'", index + 2
    parts: list[str] = []
    start = index + 1
    while True:
        end = text.find("'", start)
        if end < 0:
            raise DateError(f"date pattern {text!r} has an unclosed quote")
        parts.append(text[start:end])
        if not text.startswith("''", end):
            return "".join(parts), end + 1
        parts.append("'")
        start = end + 2


def input_pattern(text: str) -> tuple[Piece, ...]:
    """A pattern to read dates in, checked early so a template with a bad one is refused."""
    if len(text) > MAX_PATTERN:
        raise DateError(
            f"inputFormat has {len(text)} characters; at most {MAX_PATTERN} are allowed"
        )
    return split_pattern(text)


def format_date(moment: datetime, pattern: str, zone: tzinfo) -> str:
    """``moment`` as the clock in ``zone`` shows it, written in ``pattern``."""
    try:
        moment = moment.astimezone(zone)
    except OverflowError:
        raise DateError(f"{moment.isoformat()} is before year 1 or after 9999 in {zone}") from None
    out: list[str] = []
    for piece in split_pattern(pattern):
        if isinstance(piece, str):
            out.append(piece)
        else:
            out.append(_field(moment, *piece))
    return "".join(out)


def _field(moment: datetime, letter: str, count: int) -> str:
    if letter in "ML" and count >= 3:
        name = MONTHS[moment.month - 1]
        return name if count > 3 else name[:3]
    if letter == "E":
        name = DAYS[moment.weekday()]
        return name if count > 3 else name[:3]
    if letter == "y":
        return f"{moment.year % 100:02d}" if count == 2 else f"{moment.year:0{count}d}"
    if letter == "G":
        return "AD"
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter in "zZX":
        return _zone_text(moment, letter, count)
    number = {
        "M": moment.month,
        "L": moment.month,
        "d": moment.day,
        "D": moment.timetuple().tm_yday,
        "F": (moment.day - 1) // 7 + 1,
        "u": moment.isoweekday(),
        "H": moment.hour,
        "k": moment.hour or 24,
        "K": moment.hour % 12,
        "h": moment.hour % 12 or 12,
        "m": moment.minute,
        "s": moment.second,
        "S": moment.microsecond // 1000,
    }[letter]
    return f"{number:0{count}d}"


def _zone_text(moment: datetime, letter: str, count: int) -> str:
    offset = moment.utcoffset() or timedelta(0)
    if letter == "z":
        return moment.tzname() or "UTC"
    if letter == "X" and not offset:
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    if letter == "X" and count == 1:
        return f"{sign}{hours:02d}"
    separator = ":" if letter == "X" and count == 3 else ""
    return f"{sign}{hours:02d}{separator}{minutes:02d}"


def parse_date(text: str, pattern: str, zone: tzinfo, today: datetime) -> datetime:
    """The moment ``text`` writes in ``pattern``; without an offset in it, a time in ``zone``.

    Fields the pattern lacks are those of 1970-01-01 00:00; ``today`` places a ``yy`` year.
    """
    pieces = input_pattern(pattern)
    source = text.strip()
    if len(source) > MAX_DATE:
        raise DateError(
            f"the date {source[:40]!r}... has {len(source)} characters; at most {MAX_DATE} are read"
        )
    fields = {"y": 1970, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0, "S": 0}
    pm = False
    offset: tzinfo | None = None
    at = 0
    for index, piece in enumerate(pieces):
        width = _width(pieces, index)
        raw = _read(source, at, piece, width)
        if raw is None:
            wanted = repr(piece) if isinstance(piece, str) else _wanted(piece, width)
            raise DateError(_mismatch(source, pattern, f"{wanted} at character {at + 1}"))
        at += len(raw)
        if isinstance(piece, str):
            continue
        letter, count = piece
        if letter in "ML":
            fields["M"] = int(raw) if raw.isdecimal() else _MONTH_NAMES.index(raw) % 12 + 1
        elif letter == "y":
            fields["y"] = _two_digit_year(int(raw), today.year) if count == 2 else int(raw)
        elif letter in "dHmsS":
            fields[letter] = int(raw)
        elif letter in "kKh":
            fields["H"] = int(raw) % (24 if letter == "k" else 12)
        elif letter == "a":
            pm = raw == "PM"
        elif letter in "zZX":
            offset = _offset(raw, source)
    if at < len(source):
        raise DateError(_mismatch(source, pattern, f"the end at character {at + 1}"))
    if pm and fields["H"] < 12:
        fields["H"] += 12
    try:
        moment = datetime(
            fields["y"], fields["M"], fields["d"], fields["H"], fields["m"], fields["s"],
            fields["S"] * 1000,
        )  # fmt: skip
    except (ValueError, OverflowError) as error:
        raise DateError(f"{source!r} is not a valid date: {error}") from None
    return moment.replace(tzinfo=offset or zone)


def _numeric(piece: Piece | None) -> bool:
    return (
        isinstance(piece, tuple)
        and piece[0] in _NUMERIC
        and not (piece[0] in "ML" and piece[1] >= 3)
    )


def _width(pieces: tuple[Piece, ...], index: int) -> int | None:
    """The digits a number field takes, when it cannot take all there are."""
    piece = pieces[index]
    if not isinstance(piece, tuple) or not _numeric(piece):
        return None
    following = pieces[index + 1] if index + 1 < len(pieces) else None
    return piece[1] if _numeric(following) or piece == ("y", 2) else None


def _read(source: str, at: int, piece: Piece, width: int | None) -> str | None:
    """What ``piece`` takes of ``source`` at ``at``, or None when it is not there."""
    if isinstance(piece, str):
        found = source[at : at + len(piece)]
        return found if found.lower() == piece.lower() else None
    letter = piece[0]
    if letter in "zZX":
        return _word(source, at, _ZONE_WORDS) or _signed_offset(source, at)
    if not _numeric(piece):
        return _word(source, at, _WORDS[letter])
    end = at
    limit = len(source) if width is None else min(len(source), at + width)
    while end < limit and source[end].isdecimal():
        end += 1
    return source[at:end] if end > at and (width is None or end - at == width) else None


def _word(source: str, at: int, words: tuple[str, ...]) -> str | None:
    """The first of ``words`` at ``at`` in any case; full names come before short ones."""
    return next(
        (word for word in words if source[at : at + len(word)].lower() == word.lower()), None
    )


def _signed_offset(source: str, at: int) -> str | None:
    if source[at : at + 1] not in ("+", "-") or not _digits(source, at + 1, 2):
        return None
    if source[at + 3 : at + 4] == ":" and _digits(source, at + 4, 2):
        return source[at : at + 6]
    return source[at : at + 5] if _digits(source, at + 3, 2) else source[at : at + 3]


def _digits(source: str, at: int, count: int) -> bool:
    text = source[at : at + count]
    return len(text) == count and text.isdecimal()


def _wanted(piece: tuple[str, int], width: int | None) -> str:
    if _numeric(piece):
        return f"a {width}-digit number" if width else "a number"
    return _WANTED[piece[0]]


def _mismatch(source: str, pattern: str, wanted: str) -> str:
    return f"{source!r} does not match the date pattern {pattern!r}: expected {wanted}"


def _two_digit_year(value: int, this_year: int) -> int:
    """``yy`` lands within 80 years before and 20 after now, as SimpleDateFormat reads it."""
    year = this_year - this_year % 100 + value
    if year > this_year + 20:
        year -= 100
    elif year <= this_year - 80:
        year += 100
    return year


def _offset(raw: str, source: str) -> tzinfo:
    if raw in _ZONE_WORDS:
        return UTC
    digits = raw[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or "0")
    if hours > 23 or minutes > 59:
        raise DateError(f"{source!r} is not a valid date: {raw!r} is not a UTC offset")
    sign = -1 if raw[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
