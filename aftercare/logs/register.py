"""The opt-out register, ``opt-outs.csv`` in the output folder (PIPL: a customer who
refuses contact is never called again, even when the contact logs that said so are
deleted).

One line per refusal: ``customer_id, mobile, plate, date, source`` (the log file it came
from). These are the only personal data kept, and only to honour the refusal. The file
is append-only: new lines are added whole, in one ``write`` on a descriptor opened with
``O_APPEND``, never rewritten; it is read on every run. UTF-8 with a BOM so Excel and WPS
show the Chinese; lines saved back by Excel as GBK are read too.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd

from aftercare.errors import OutputError

__all__ = ["REGISTER_NAME", "REGISTER_FIELDS", "read_register", "new_entries",
           "append_register"]

REGISTER_NAME = "opt-outs.csv"
REGISTER_FIELDS = ["customer_id", "mobile", "plate", "date", "source"]


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REGISTER_FIELDS})


def read_register(out_dir: Path) -> pd.DataFrame:
    """The register's entries (text columns, blanks as None); empty when there is none."""
    path = Path(out_dir) / REGISTER_NAME
    if not path.is_file():
        return _empty()
    rows = list(csv.reader(io.StringIO(_decode(path.read_bytes()))))
    if not rows:
        return _empty()
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    frame = pd.DataFrame([r + [""] * (len(header) - len(r)) for r in body],
                         columns=header if body else None, dtype=object)
    if not body:
        return _empty()
    out = pd.DataFrame({c: (frame[c] if c in frame else pd.Series("", index=frame.index))
                        .astype(object).str.strip().replace("", None)
                        for c in REGISTER_FIELDS})
    return out.reset_index(drop=True)


def _decode(data: bytes) -> str:
    """UTF-8 (our lines), or GBK for lines Excel saved back: decided line by line."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    lines = []
    for line in data.split(b"\n"):  # a register has one line per refusal: a few hundred
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("gb18030", errors="replace"))
    return "\n".join(lines)


def _key(frame: pd.DataFrame) -> pd.Series:
    """Who an entry is: customer id and mobile (else the plates)."""
    who = (frame["customer_id"].fillna("").astype(str) + "\x1f"
           + frame["mobile"].fillna("").astype(str))
    return who.where(who != "\x1f", "\x1f\x1f" + frame["plate"].fillna("").astype(str))


def new_entries(rows: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """The opt-outs in log ``rows`` that the register does not hold yet: one entry per
    call with ``opt_out`` in a result cell of any of its rows (the customer id and mobile
    of the call, its plates joined by ``;``, the date of the row that says so), earliest
    first; a (customer id, mobile) already registered is not added again."""
    from aftercare.logs.effects import call_groups
    from aftercare.logs.read import RESULT_COLUMNS

    if not len(rows):
        return _empty()
    group = call_groups(rows)
    said = rows[RESULT_COLUMNS].isin(["opt_out"]).any(axis=1)
    if not said.any():
        return _empty()
    in_call = group.isin(set(group[said]))
    calls = rows[in_call.to_numpy()].assign(_g=group[in_call].to_numpy())
    plates = calls.groupby("_g", sort=False)["plate"].agg(
        lambda s: ";".join(dict.fromkeys(p for v in s.dropna() for p in str(v).split(";"))))
    first = (rows[said.to_numpy()].assign(_g=group[said].to_numpy())
             .sort_values(["log_date", "_file", "_row"], kind="stable")
             .drop_duplicates("_g"))
    out = pd.DataFrame({
        "customer_id": first["customer_id"].to_numpy(dtype=object),
        "mobile": first["mobile"].to_numpy(dtype=object),
        "plate": first["_g"].map(plates).replace("", None).to_numpy(dtype=object),
        "date": pd.to_datetime(first["log_date"]).dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
        "source": first["_file"].to_numpy(dtype=object),
    })
    out = out[(out["customer_id"].notna() | out["mobile"].notna() | out["plate"].notna())]
    key = _key(out)
    known = set(_key(register)) if len(register) else set()
    out = out[~key.duplicated() & ~key.isin(known)]
    return out.reset_index(drop=True)


def append_register(out_dir: Path, entries: pd.DataFrame) -> Path | None:
    """Append ``entries`` as whole lines (header first when the file is new); returns the
    path, or None when there was nothing to add."""
    if entries is None or not len(entries):
        return None
    path = Path(out_dir) / REGISTER_NAME
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for row in entries[REGISTER_FIELDS].itertuples(index=False):
        w.writerow(["" if v is None or (isinstance(v, float) and v != v) else str(v)
                    for v in row])
    lines = buf.getvalue()
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                head = io.StringIO()
                csv.writer(head, lineterminator="\r\n").writerow(REGISTER_FIELDS)
                lines = "\ufeff" + head.getvalue() + lines
            elif os.pread(fd, 1, size - 1) not in (b"\n", b"\r"):
                lines = "\r\n" + lines  # someone saved it without a final line break
            data = lines.encode("utf-8")
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "short write")
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise OutputError(f"{path}: 无法写入拒绝联系登记 ({exc.strerror or exc})"
                          f" (cannot append to the opt-out register)") from None
    return path
