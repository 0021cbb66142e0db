"""The compliance gate (being rewritten; exports restored at the end of the change)."""

from compliance.numbers import NormalizedPhone, PhoneNumberError, normalize_phone

__all__ = ["NormalizedPhone", "PhoneNumberError", "normalize_phone"]
