"""A small hand-made data folder for the contact-log round trip: twelve customers whose
calls in the December 2026 list (as of 2026-11-20) each end one way (opt-out, wrong
number, new number, three failed attempts, booked, done elsewhere, sold, moved …)."""

from __future__ import annotations

import csv
from pathlib import Path

VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_TRANSLIT = {**{str(d): d for d in range(10)},
             **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7,
             "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def vin(n: int) -> str:
    """A VIN with a valid check digit (ISO 3779)."""
    body = f"LSVAB2BM{0}T{n:07d}"[:17]
    body = body[:8] + "0" + body[9:]
    total = sum(_TRANSLIT[c] * w for c, w in zip(body, _WEIGHTS))
    check = "X" if total % 11 == 10 else str(total % 11)
    return body[:8] + check + body[9:]


# customer id → (name, mobile, vehicles: [(plate, delivery, insurance expiry)])
CUSTOMERS = {
    "C01": ("张一", "13800000001", [("粤B10001", "2026-09-20", "")]),            # opt_out
    "C02": ("李二", "13800000002", [("粤B10002", "2023-05-10", "2027-01-25")]),  # wrong number
    "C03": ("王三", "13800000003", [("粤B10003", "2026-09-20", "")]),            # wrong + 新号码
    "C04": ("赵四", "13800000004", [("粤B10004", "2026-09-20", "")]),            # 新号码
    "C05": ("钱五", "13800000005", [("粤B10005", "2026-09-20", "")]),            # 3 × failed
    "C06": ("孙六", "13800000006", [("粤B10006", "2026-09-20", "")]),            # booked, no-show
    "C07": ("周七", "13800000007", [("粤B10007", "2026-09-20", "")]),            # booked, came
    "C08": ("吴八", "13800000008", [("粤B10008", "2026-09-20", "")]),            # done elsewhere
    "C09": ("郑九", "13800000009", [("粤B10009", "2026-09-20", ""),              # sold
                                    ("粤B10010", "2026-09-20", "")]),            # (no entry)
    "C10": ("冯十", "13800000010", [("粤B10011", "2026-09-20", "")]),            # moved
    "C11": ("陈十一", "13800000011", [("粤B10012", "2026-09-20", "")]),          # declined
    "C12": ("褚十二", "13800000012", [("粤B10013", "2026-09-20", "")]),          # scrapped
    "C13": ("卫十三", "13800000013", [("粤B10014", "2026-09-20", "")]),          # bad cells
}


def plates(cid: str) -> list[str]:
    return [p for p, _, _ in CUSTOMERS[cid][2]]


def vin_of(plate: str) -> str:
    return vin(int(plate[-5:]))


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def write_folder(folder: Path, mobiles: dict[str, str] | None = None) -> Path:
    """customers.csv, vehicles.csv and ros.csv (one internal PDI per car) in ``folder``;
    ``mobiles`` overrides numbers (a later export)."""
    folder.mkdir(parents=True, exist_ok=True)
    mobiles = mobiles or {}
    _write(folder / "customers.csv", ["客户编号", "客户名称", "手机号码"],
           [[cid, name, mobiles.get(cid, mob)] for cid, (name, mob, _) in CUSTOMERS.items()])
    _write(folder / "vehicles.csv",
           ["VIN", "车牌号", "客户编号", "品牌", "车型", "交车日期", "保险到期日"],
           [[vin_of(p), p, cid, "", "轿车", d, ins]
            for cid, (_, _, cars) in CUSTOMERS.items() for p, d, ins in cars])
    _write(folder / "ros.csv",
           ["工单号", "车牌号", "VIN", "进厂日期", "结算日期", "进厂里程", "维修类型", "结算金额"],
           [[f"PDI{p[-5:]}", p, vin_of(p), d, d, 5, "PDI", 0]
            for cid, (_, _, cars) in CUSTOMERS.items() for p, d, _ in cars])
    return folder


def add_visit(folder: Path, plate: str, day: str, kind: str = "首保", km: int = 3000) -> None:
    """A later export with one more RO."""
    _write(folder / "ros2.csv",
           ["工单号", "车牌号", "VIN", "进厂日期", "结算日期", "进厂里程", "维修类型", "结算金额"],
           [[f"R{plate[-5:]}", plate, vin_of(plate), day, day, km, kind, 300]])
