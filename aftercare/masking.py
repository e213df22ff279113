"""Masking personal values where they are shown but not needed (data-issue listings,
terminal output, --json, report and churn workbooks)."""

from __future__ import annotations

PHONE_FIELDS = {"mobile", "phone", "new_mobile", "other_phones", "extra_phones"}
ID_FIELDS = {"id_number"}
NAME_FIELDS = {"customer_name"}


def mask_value(field: str, value) -> str:
    from aftercare.parse import mask_id_number, mask_phone

    text = "" if value is None else str(value)
    if not text:
        return text
    if field in PHONE_FIELDS:
        return ";".join(mask_phone(p) for p in text.split(";"))
    if field in ID_FIELDS:
        return mask_id_number(text)
    if field in NAME_FIELDS:
        return text[0] + "*" * (len(text) - 1)
    return text
