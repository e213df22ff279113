"""Header handling: normalise header text, find the header row, map columns to fields,
and classify a sheet into one of the tables.

Normalising (01-data-contract.md): NFKC (full-width → half-width), strip, case-fold,
drop bracketed marks and hints (`VIN（*）`, `年检到期（年/月/日）`, `客户类型(个人/公司)`),
drop stray `*`, trailing colons and inner whitespace.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from aftercare.load.aliases import ALIASES, VEHICLE_KEYS

HEADER_SCAN_ROWS = 20
_BRACKETS = re.compile(r"\([^)]*\)?|\[[^\]]*\]?|【[^】]*】?|<[^>]*>")
_JUNK = re.compile(r"[\s*:：_]+")


def normalise_header(value) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    text = _BRACKETS.sub("", text)
    text = _JUNK.sub("", text)
    return text


def alias_table(user_aliases: dict | None = None) -> dict[str, dict[str, list[str]]]:
    """table → field → normalised aliases in priority order (user's first)."""
    user_aliases = user_aliases or {}
    out: dict[str, dict[str, list[str]]] = {}
    for table, fields in ALIASES.items():
        extra = user_aliases.get(table, {})
        out[table] = {}
        for fname, aliases in fields.items():
            seen: list[str] = []
            for alias in [*extra.get(fname, []), *aliases]:
                norm = normalise_header(alias)
                if norm and norm not in seen:
                    seen.append(norm)
            out[table][fname] = seen
    return out


@dataclass
class SheetMatch:
    table: str | None
    header_row_pos: int | None  # position (0-based) of the header row within the grid
    columns: dict[str, list[int]] = field(default_factory=dict)  # field → column positions
    headers: list[str] = field(default_factory=list)  # the header row's raw text
    reason: str = ""  # why a sheet was ignored


def _all_aliases(aliases) -> set[str]:
    return {a for fields in aliases.values() for names in fields.values() for a in names}


def find_header_row(rows: list[list], aliases) -> int | None:
    """Among the first rows, the one whose cells match the most aliases (ties: the first)."""
    known = _all_aliases(aliases)
    best, best_pos = 1, None  # at least two matching cells
    for pos, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = len({n for n in (normalise_header(c) for c in row) if n and n in known})
        if hits > best:
            best, best_pos = hits, pos
    return best_pos


def match_columns(headers: list, table_aliases: dict[str, list[str]]) -> dict[str, list[int]]:
    """field → matching column positions, best first (alias order, then column order)."""
    norm = [normalise_header(h) for h in headers]
    out: dict[str, list[int]] = {}
    for fname, aliases in table_aliases.items():
        cols = []
        for alias in aliases:
            cols.extend(i for i, h in enumerate(norm) if h == alias and i not in cols)
        if cols:
            out[fname] = cols
    return out


_VEHICLE_ONLY = {"vin", "delivery_date", "registration_date", "inspection_due", "warranty_end",
                 "warranty_km", "insurance_expiry", "compulsory_expiry", "brand", "model",
                 "use_class", "status"}
_CUSTOMER_ONLY = {"birthday", "id_number", "address", "gender", "customer_type", "do_not_contact"}


def classify(headers: list, aliases, pinned: str | None = None) -> SheetMatch:
    """Decide which table a sheet holds, from its header row (01-data-contract.md)."""
    matches = {t: match_columns(headers, aliases[t]) for t in aliases}
    raw = [("" if h is None else str(h)) for h in headers]
    if pinned:
        return SheetMatch(pinned, None, matches[pinned], raw)
    ro = matches["repair_orders"]
    lines = matches["ro_lines"]
    has_vehicle_key = any(k in ro for k in VEHICLE_KEYS)
    if "ro_no" in ro and (has_vehicle_key or "open_date" in ro):
        return SheetMatch("repair_orders", None, ro, raw)
    if "ro_no" in lines and any(k in lines for k in ("service_type", "item_name", "amount")):
        return SheetMatch("ro_lines", None, lines, raw)
    veh, cust = matches["vehicles"], matches["customers"]
    v_score = len(_VEHICLE_ONLY & set(veh))
    c_score = len(_CUSTOMER_ONLY & set(cust))
    is_vehicle = any(k in veh for k in VEHICLE_KEYS)
    is_customer = any(k in cust for k in ("customer_id", "customer_name", "mobile"))
    if is_vehicle and (v_score >= c_score or not is_customer):
        return SheetMatch("vehicles", None, veh, raw)
    if is_customer and len(cust) >= 2:
        return SheetMatch("customers", None, cust, raw)
    return SheetMatch(None, None, {}, raw, reason="no_table_match")
