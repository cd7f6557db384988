"""Currencies' minor units (ISO 4217): how many digits follow the decimal point."""

from __future__ import annotations

# Currencies whose minor unit is not the usual two digits.
MINOR_DIGITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def minor_digits(code: str) -> int:
    """Digits after the decimal point in ``code`` (2 unless ISO 4217 says otherwise)."""
    return MINOR_DIGITS.get(code, 2)
