"""One cell to the value of one attribute type: numbers, booleans, dates, money, options,
emails, domains, phone numbers, names and references, and the settings they read by.

Each function takes a cell as read (text from CSV, typed values from Excel, JSON or
Parquet) and returns the value the API writes, or raises ``CellError`` with a reason a
person can act on. Nothing is guessed silently: a date without a year, a number whose
separators do not group by thousands, an option that is not one of the attribute's, are
errors, not values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .._metadata_core import AttributeInfo, hint
from .._money import minor_digits
from ._write import cell_text


class CellError(Exception):
    """A cell that cannot become a value of its attribute; the message says why."""


@dataclass(frozen=True)
class Settings:
    """How ambiguous cells are read. ``dayfirst``: 03/04/2025 is 3 April. ``timezone``: the
    zone of timestamps written without one. ``phone_region``: the country of numbers
    written without ``+``. ``decimal``: ``"."`` or ``","``."""

    date_formats: tuple[str, ...] = ()
    dayfirst: bool = False
    timezone: dt.tzinfo = dt.UTC
    phone_region: str | None = None
    decimal: str = "."
    max_cell_chars: int = 10_000  # the API's longest text value


@dataclass(frozen=True)
class Lookup:
    """A record reference to resolve by a unique attribute of the target object."""

    object: str
    attribute: str
    value: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.object, self.attribute, self.value)


# ISO 4217 currencies whose minor unit is not a hundredth.
SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "CHF": "CHF"}
TRUE = frozenset({"true", "t", "yes", "y", "1", "x", "on", "checked", "✓", "✔"})
FALSE = frozenset({"false", "f", "no", "n", "0", "off", "unchecked"})
_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")
_DOMAIN = re.compile(r"^([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
_CODE = re.compile(r"^[A-Z]{3}$")
MAX_NUMBER = 1e300  # the largest magnitude the API stores


def format_money(amount_minor: int, code: str) -> str:
    """``(1250, "EUR")`` → ``"12.50 EUR"``: the text form export writes and import reads."""
    digits = minor_digits(code)
    amount = Decimal(amount_minor).scaleb(-digits)
    return f"{amount:.{digits}f} {code}"


def is_empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip()) or cell == []


def text_of(cell: Any) -> str:
    """A cell as text without surrounding spaces: ``42.0`` → ``"42"``, a date → ISO 8601."""
    return cell.strip() if isinstance(cell, str) else cell_text(cell)


# ---------------------------------------------------------------------------- one value per type


def number(cell: Any, settings: Settings) -> int | float:
    if isinstance(cell, bool):
        raise CellError(f"{cell!r} is not a number")
    if isinstance(cell, int | float):
        if cell != cell or cell in (float("inf"), float("-inf")):
            raise CellError(f"{cell!r} is not a finite number")
        if abs(cell) > MAX_NUMBER:
            raise CellError(f"{_short(cell)} is beyond the largest number the API takes (1e300)")
        return cell
    value = _decimal(text_of(cell), settings.decimal)
    return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)


def _decimal(text: str, decimal: str) -> Decimal:
    """``"1,234.50"`` → ``Decimal("1234.50")``; separators must group by thousands."""
    original = text
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    thousands = "," if decimal == "." else "."
    if thousands in text:
        whole, _, fraction = text.partition(decimal)
        if not re.fullmatch(r"[+-]?\d{1,3}(" + re.escape(thousands) + r"\d{3})+", whole):
            raise CellError(f"{original!r} is not a number (separators must group by thousands)")
        text = whole.replace(thousands, "") + (f".{fraction}" if fraction else "")
    elif decimal == ",":
        text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise CellError(f"{original!r} is not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError(f"{original!r} is not a number") from None
    if not value.is_finite() or value.adjusted() > 300:  # checked before any int() or float()
        raise CellError(f"{_short(original)} is beyond the largest number the API takes (1e300)")
    return -value if negative else value


def _short(value: Any) -> str:
    """A number too big to quote whole, as a message shows it."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"a number of about {value.bit_length() * 0.30103:.0f} digits"  # no str(): it may not fit
    if isinstance(value, float):
        return f"{value:.3g}"
    text = str(value)
    return repr(text if len(text) <= 20 else text[:20] + "...")


def checkbox(cell: Any, settings: Settings) -> bool:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    text = text_of(cell).lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise CellError(f"{cell!r} is not true or false (yes/no, 1/0 and x are read too)")


def rating(cell: Any, settings: Settings) -> int:
    value = number(cell, settings)
    if value != int(value) or not 0 <= value <= 5:
        raise CellError(f"{cell!r} is not a whole rating from 0 to 5")
    return int(value)


def _parsed(text: str, settings: Settings) -> dt.datetime:
    """A date or date-time from text: the explicit formats first, then ISO 8601, then
    dateutil, which must find a day, a month and a year."""
    for form in settings.date_formats:
        try:
            return dt.datetime.strptime(text, form)
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    from dateutil import parser

    try:
        one = parser.parse(text, dayfirst=settings.dayfirst, default=dt.datetime(1, 1, 1))
        two = parser.parse(text, dayfirst=settings.dayfirst, default=dt.datetime(2, 2, 2))
    except (ValueError, OverflowError):
        raise CellError(f"{text!r} is not a date") from None
    if (one.year, one.month, one.day) != (two.year, two.month, two.day):
        raise CellError(f"{text!r} is not a full date (it needs a day, a month and a year)")
    return one


def date(cell: Any, settings: Settings) -> str:
    if isinstance(cell, dt.datetime):
        moment = cell
    elif isinstance(cell, dt.date):
        return cell.isoformat()
    else:
        moment = _parsed(text_of(cell), settings)
    if moment.time() != dt.time(0) and moment.tzinfo is None:
        raise CellError(f"{text_of(cell)!r} has a time of day; the attribute holds a date")
    return moment.date().isoformat()


def timestamp(cell: Any, settings: Settings) -> str:
    if isinstance(cell, dt.datetime):
        moment = cell
    elif isinstance(cell, dt.date):
        moment = dt.datetime.combine(cell, dt.time(0))
    else:
        moment = _parsed(text_of(cell), settings)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.timezone)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def currency(cell: Any, settings: Settings, default: str | None, code: str | None = None) -> dict[str, Any]:
    """``"1,234.50 EUR"``, ``"EUR 1234.5"``, ``"€12"`` or a number (in the given or default
    currency) → ``{amount_minor, currency_code}``."""
    if isinstance(cell, dict) and "amount_minor" in cell:
        return {
            "amount_minor": cell["amount_minor"],
            "currency_code": cell.get("currency_code", code or default),
        }
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        amount = _decimal(repr(cell) if isinstance(cell, float) else str(cell), ".")
    else:
        text = text_of(cell)
        found = None
        for mark, name in SYMBOLS.items():
            if text.startswith(mark) or text.endswith(mark):
                found, text = name, text.removeprefix(mark).removesuffix(mark).strip()
                break
        match = re.match(r"^([A-Za-z]{3})\s*(.+)$", text) or re.match(r"^(.+?)\s*([A-Za-z]{3})$", text)
        if match and not found:
            left, right = match.groups()
            found, text = (left, right) if re.fullmatch(r"[A-Za-z]{3}", left) else (right, left)
        amount = _decimal(text.strip(), settings.decimal)
        if found:
            code = found.upper()
    code = code or default
    if code is None or not _CODE.match(code):
        raise CellError(f"{cell!r} has no currency code (write 12.50 EUR, or map a currency_code column)")
    digits = minor_digits(code)
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise CellError(f"{cell!r} has more decimals than {code} has ({digits})")
    if not -(2**63) <= minor < 2**63:
        raise CellError(f"{_short(text_of(cell))} is beyond the largest amount the API takes")
    return {"amount_minor": int(minor), "currency_code": code}


def option(cell: Any, info: AttributeInfo) -> str:
    text = text_of(cell)
    if text in info.options:
        return text
    folded = {" ".join(title.lower().split()): title for title in info.options}
    found = folded.get(" ".join(text.lower().split()))
    if found is not None:
        return found
    raise CellError(f"{text!r} is not an option of {info.slug!r}.{hint(text, info.options, 'Options')}")


def email(cell: Any) -> str:
    text = text_of(cell)
    match = re.search(r"<([^<>]+)>\s*$", text)  # Ada Lovelace <ada@example.com>
    address = (match.group(1) if match else text).strip().removeprefix("mailto:")
    if not _EMAIL.match(address):
        raise CellError(f"{text!r} is not an email address")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def domain(cell: Any) -> str:
    text = text_of(cell)
    name = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text.lower()).split("/")[0].split("?")[0]
    name = name.removeprefix("www.").rstrip(".")
    if not _DOMAIN.match(name):
        raise CellError(f"{text!r} is not a domain such as acme.com")
    return name


def phone(cell: Any, settings: Settings, country: str | None = None) -> dict[str, str]:
    """A phone number checked by ``overlay.phone`` (the API's own rule): ``{original_phone_number}``,
    the number as typed (``00`` read as ``+``), with the ``country_code`` to read a national
    number in (``country``, else ``phone_region``); the API stores it in E.164."""
    from ..phone import PhoneNumberError, international, parse_phone

    text = text_of(cell)
    region = (country or settings.phone_region or "").upper() or None
    if region is None and not international(text).startswith("+"):
        raise CellError(
            f"{text!r} has no country code: write +<code>, or give phone_region or a country_code column"
        )
    try:
        number = parse_phone(text, region)
    except PhoneNumberError as exc:
        raise CellError(str(exc)) from None
    if region is None or number.typed.startswith("+"):
        return {"original_phone_number": number.typed}
    return {"original_phone_number": number.typed, "country_code": region}


def personal_name(parts: dict[str, Any]) -> dict[str, str]:
    """A name from one cell (``Ada Lovelace`` or ``Lovelace, Ada``) or from first/last columns."""
    if parts.get("first_name") is not None or parts.get("last_name") is not None:
        first, last = text_of(parts.get("first_name") or ""), text_of(parts.get("last_name") or "")
        full = text_of(parts["full_name"]) if parts.get("full_name") else f"{first} {last}".strip()
        return {"first_name": first, "last_name": last, "full_name": full}
    text = " ".join(text_of(parts.get("") or parts.get("full_name") or "").split())
    if "," in text:
        last, _, first = (piece.strip() for piece in text.partition(","))
        return {"first_name": first, "last_name": last, "full_name": f"{first} {last}".strip()}
    first, _, last = text.partition(" ")
    return {"first_name": first, "last_name": last, "full_name": text}


def reference(cell: Any, info: AttributeInfo, by: str | None, unique: dict[str, str]) -> Any:
    """A record id, or a ``Lookup`` by the target's unique attribute ``by`` (or its only one)."""
    text = text_of(cell)
    if ":" in text and text.split(":", 1)[0] in info.targets and _ID.match(text.split(":", 1)[1]):
        target, record_id = text.split(":", 1)
        return {"target_object": target, "target_record_id": record_id}
    if len(info.targets) != 1:
        raise CellError(f"{info.slug!r} may point to {', '.join(info.targets)}: write object:record_id")
    target = info.targets[0]
    if by in (None, "record_id") and _ID.match(text):
        return {"target_object": target, "target_record_id": text.lower()}
    if by == "record_id":
        raise CellError(f"{text!r} is not a record id")
    attribute = by or unique.get(target)
    if attribute is None:
        raise CellError(f"{text!r} is not a record id, and {target} has no unique attribute to look it up by")
    return Lookup(target, attribute, text)
