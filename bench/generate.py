#!/usr/bin/env python3
"""Seeded, vectorised generator of synthetic DMS exports for the benchmarks.

    python bench/generate.py --size store|group|N --seed 1 --out DIR [--formats xlsx,csv,parquet]

Sizes (05-operations.md, "Speed"):
  store   ~25,000 vehicles, ~180,000 ROs over ten years ending 2026-11-20
  group   1,000,000 vehicles, 7,000,000 ROs
  N       N ROs and N/7 vehicles (e.g. 200000), for scaling runs

Formats (one folder each; with several, each goes to DIR/<format>/):
  xlsx     the layout a store's DMS exports (default for store and N):
           车辆档案.xlsx (two title lines, header in row 3 from column B), 客户档案.xlsx,
           维修工单_recent.xlsx (ROs of the last ~3 years) and 维修工单_old.csv (older ROs,
           GBK, title rows, a 合计 totals row); the two RO files overlap by a few weeks.
  csv      UTF-8 CSVs, header in line 1 (default for group): vehicles and customers in parts
           of at most 500,000 rows, ROs one file per year (per half-year when a year is
           large), so every file stays under the loader's default 200 MB / 5M-row limits.
  parquet  the same split as csv, as Parquet (needs pyarrow; skipped with a message if it
           is not importable).

Same headers and value formats as sample_data/generate.py, with the same kinds of dirt at
about 1% (`1.2万` mileage, text dates in mixed formats, wrong VIN check digits, masked
phones, 作废 duplicates, unsettled ROs at export time …). Realism matters less than the
shape and the size: every step works on whole numpy arrays (no Python loop per row; the
only per-row loop is openpyxl's own, when writing workbooks in write-only mode).

Deterministic for a given --seed: one numpy Generator drawn in a fixed order. Each data
folder gets a hidden `.bench-manifest.json` (the loader skips hidden files) that lists
the files, their readers' hints and row counts, for bench/run.py and bench/floor.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SD = np.dtypes.StringDType()
NAT = np.iinfo(np.int64).min  # missing day / second (casts to NaT)
MANIFEST = ".bench-manifest.json"


# ---------------------------------------------------------------------------------- dates
def day(s: str) -> int:
    return int(np.datetime64(s, "D").astype(np.int64))


EXPORT_DAY = day("2026-11-20")  # the newest export; nothing opens after it
EXPORT_CUTOFF = EXPORT_DAY * 86400 + 17 * 3600 + 30 * 60
RO_START = day("2016-11-21")  # ten years of ROs
DELIVERY_START = day("2013-06-01")  # some cars were delivered before the RO window
TIMES_SINCE = day("2023-06-01")  # promised/actual hand-back times from here
# store layout: recent ROs as xlsx from here, older ROs as a GBK CSV exported at OLD_CUTOFF
RECENT_START = day("2023-11-01")
OLD_EXPORT = day("2023-11-30")
OLD_CUTOFF = OLD_EXPORT * 86400 + 17 * 3600 + 30 * 60
# 除夕 of each year: the workshop closes 除夕 .. 初三
CHUXI = [
    day(s)
    for s in (
        "2013-02-09",
        "2014-01-30",
        "2015-02-18",
        "2016-02-07",
        "2017-01-27",
        "2018-02-15",
        "2019-02-04",
        "2020-01-24",
        "2021-02-11",
        "2022-01-31",
        "2023-01-21",
        "2024-02-09",
        "2025-01-28",
        "2026-02-16",
    )
]

# ------------------------------------------------------------- headers (as in sample_data)
VEHICLE_HEADERS = [
    "VIN",
    "车牌号",
    "客户编号",
    "品牌",
    "车型",
    "交车日期",
    "初次登记日期",
    "年审到期日",
    "保修截止日期",
    "保险到期日",
    "交强险到期日",
    "使用性质",
    "车辆状态",
]
CUSTOMER_HEADERS = [
    "客户编号",
    "客户名称",
    "手机号码",
    "联系电话",
    "性别",
    "生日",
    "身份证号",
    "客户类型",
    "地址",
    "免打扰",
]
RO_HEADERS = [
    "工单号",
    "车牌号",
    "VIN",
    "进厂日期",
    "结算日期",
    "进厂里程",
    "维修类型",
    "结算金额",
    "是否预约",
    "服务顾问",
    "工单状态",
    "预计交车时间",
    "实际交车时间",
    "建议维修项目",
    "建议维修日期",
]

STATS: dict = {}  # a few numbers about the last simulation, for the log
SIZES = {"store": (25_000, 180_000), "group": (1_000_000, 7_000_000)}

# brand -> share, VIN WMIs, models (name, weight), warranty end in the vehicle file?
BRANDS = {
    "丰田": (
        0.13,
        ["LFM"],
        True,
        [("卡罗拉", 5), ("亚洲龙", 2), ("RAV4荣放", 3), ("皇冠陆放", 1), ("威驰", 1)],
    ),
    "广汽丰田": (
        0.16,
        ["LVG"],
        True,
        [("凯美瑞", 4), ("汉兰达", 2), ("雷凌", 3), ("威兰达", 2), ("赛那", 1), ("致炫", 1)],
    ),
    "本田": (
        0.16,
        ["LHG", "LVH"],
        True,
        [("雅阁", 4), ("思域", 3), ("CR-V", 3), ("缤智", 2), ("飞度", 1), ("皓影", 2)],
    ),
    "大众": (
        0.18,
        ["LSV", "LFV"],
        True,
        [
            ("朗逸", 5),
            ("速腾", 3),
            ("迈腾", 2),
            ("帕萨特", 2),
            ("途观L", 2),
            ("宝来", 2),
            ("ID.4 CROZZ", 1),
        ],
    ),
    "别克": (
        0.10,
        ["LSG"],
        False,
        [("英朗", 4), ("君威", 2), ("君越", 1), ("昂科威", 2), ("GL8", 2)],
    ),
    "比亚迪": (
        0.15,
        ["LGX"],
        False,
        [
            ("秦PLUS DM-i", 4),
            ("宋PLUS DM-i", 3),
            ("汉EV", 2),
            ("元PLUS", 2),
            ("海豚", 2),
            ("唐DM-i", 1),
        ],
    ),
    "日产": (0.10, ["LGB"], True, [("轩逸", 5), ("天籁", 2), ("奇骏", 2), ("逍客", 2)]),
    "吉利": (0.012, ["L6T"], False, [("星越L", 1), ("帝豪", 1)]),
    "长安": (0.008, ["LS5"], False, [("CS75 PLUS", 1)]),
}
NEV_MODELS = {"汉EV", "海豚", "元PLUS", "ID.4 CROZZ", "秦PLUS DM-i", "宋PLUS DM-i", "唐DM-i"}
TAXI_MODELS = ["秦PLUS DM-i", "卡罗拉", "轩逸", "朗逸"]
# recalls: (brand, models, delivered from, delivered to, campaign start)
CAMPAIGNS = [
    ("大众", {"帕萨特", "迈腾"}, "2015-01-01", "2017-06-30", "2018-03-01"),
    ("别克", {"英朗", "君威"}, "2016-01-01", "2019-12-31", "2020-05-15"),
    ("本田", {"CR-V", "思域", "皓影"}, "2021-06-01", "2023-06-30", "2023-09-01"),
    ("大众", {"朗逸", "速腾"}, "2022-01-01", "2024-03-31", "2024-06-15"),
    ("丰田", {"卡罗拉"}, "2022-06-01", "2024-12-31", "2025-08-01"),
    ("广汽丰田", {"雷凌"}, "2022-06-01", "2024-12-31", "2025-08-01"),
    ("日产", {"轩逸"}, "2023-01-01", "2025-06-30", "2026-03-10"),
]
REGIONS = [  # address prefix, plate prefix, landline area, districts, share
    (
        "广东省深圳市",
        "粤B",
        "0755",
        ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区", "龙华区", "光明区", "坪山区"],
        0.835,
    ),
    ("广东省广州市", "粤A", "020", ["天河区", "越秀区", "海珠区", "番禺区", "白云区"], 0.04),
    ("广东省东莞市", "粤S", "0769", ["南城街道", "东城街道", "长安镇"], 0.025),
    ("广东省惠州市", "粤L", "0752", ["惠城区", "惠阳区"], 0.02),
    ("湖南省长沙市", "湘A", "0731", ["岳麓区", "芙蓉区", "雨花区"], 0.02),
    ("湖南省郴州市", "湘L", "0735", ["北湖区", "苏仙区"], 0.01),
    ("江西省赣州市", "赣B", "0797", ["章贡区", "南康区"], 0.025),
    ("广西壮族自治区南宁市", "桂A", "0771", ["青秀区", "西乡塘区"], 0.01),
    ("四川省成都市", "川A", "028", ["武侯区", "锦江区"], 0.015),
]
ROADS = [
    "深南大道",
    "南海大道",
    "科技园路",
    "北环大道",
    "宝安大道",
    "龙岗大道",
    "布吉路",
    "民治大道",
    "梅林路",
    "红荔路",
    "沙河西路",
    "创业路",
    "新湖路",
    "建设路",
    "人民路",
    "解放路",
    "中山路",
    "东风路",
    "五一大道",
]
ESTATES = ["花园", "小区", "新村", "公寓", "苑", "家园", "华庭", "名苑"]
ID_AREAS = [
    "440305",
    "440304",
    "440306",
    "440307",
    "445202",
    "441481",
    "440582",
    "441223",
    "440923",
    "430481",
    "431022",
    "430104",
    "360732",
    "360702",
    "450821",
    "510129",
    "420111",
    "412721",
    "441302",
    "441900",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤温古赖柯庄卓"
)
GIVEN_MALE = (
    "伟强磊军勇杰涛斌明超刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋峰志坚建国文博晨阳子轩然家豪锦"
)
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英婷雪梅琳颖慧莉倩洁欣怡佳丹萍红燕雯晶蕾璐瑶琪思涵梓彤雨萱嘉"
ORG_WORDS = [
    "华信",
    "鹏达",
    "宏远",
    "恒通",
    "安捷",
    "金盛",
    "新航",
    "中联",
    "嘉利",
    "瑞丰",
    "汇通",
    "正泰",
    "佳美",
    "天诚",
    "卓越",
    "海纳",
    "博创",
    "盛达",
    "永隆",
    "联发",
    "长荣",
    "和顺",
    "兴业",
    "东方",
]
ORG_TRADES = [
    "物流",
    "贸易",
    "电子科技",
    "建筑工程",
    "餐饮管理",
    "装饰工程",
    "信息技术",
    "实业",
    "投资发展",
    "医疗器械",
]
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]

# RO categories: raw 维修类型 names (weight), amount model, hand-back hours
CATEGORIES = [
    "internal",
    "first_service",
    "maintenance",
    "repair",
    "bodyshop",
    "warranty",
    "campaign",
    "wash",
    "unknown",
]
C = {name: i for i, name in enumerate(CATEGORIES)}
KIND_NAMES = {
    "internal": [("PDI", 6), ("新车整备", 4)],
    "first_service": [("首保", 7), ("首次保养", 3)],
    "maintenance": [
        ("定保", 40),
        ("定期保养", 20),
        ("保养", 15),
        ("小保养", 25),
    ],  # 大保养 by mileage
    "repair": [("一般维修", 5), ("机修", 3), ("快修", 2)],
    "bodyshop": [("钣喷", 6), ("事故车", 4)],
    "warranty": [("保修", 6), ("索赔", 4)],
    "campaign": [("召回", 1)],
    "wash": [("洗车", 6), ("美容", 4)],
    "unknown": [("空调清洗套餐", 5), ("轮胎更换", 5)],  # not in the built-in alias table
}
KINDS = [name for cat in CATEGORIES for name, _ in KIND_NAMES[cat]] + ["大保养"]
BIG_SERVICE = len(KINDS) - 1
HOURS = {
    "internal": (2, 6),
    "first_service": (1.5, 3),
    "maintenance": (1.5, 4),
    "repair": (2, 30),
    "bodyshop": (48, 170),
    "warranty": (3, 50),
    "campaign": (1, 3),
    "wash": (0.5, 2),
    "unknown": (1, 3),
}
# share of the ROs that are not scheduled services (filled up to the target count)
OTHER_SHARES = {"repair": 0.46, "wash": 0.30, "bodyshop": 0.12, "warranty": 0.095, "unknown": 0.025}
# maintenance interval per brand (as in BRANDS): months, km
SERVICE_INTERVAL = np.array(
    [
        [6, 5000],
        [6, 5000],
        [6, 5000],
        [12, 7500],
        [6, 5000],
        [12, 12000],
        [6, 5000],
        [6, 5000],
        [6, 5000],
    ]
)
MAX_SERVICE_SHARE = 0.60  # PDI + first service + maintenance + recalls, at most this share
DECLINED_ITEMS = [
    "刹车片更换",
    "轮胎更换",
    "更换蓄电池",
    "更换雨刮片",
    "四轮定位",
    "更换刹车油",
    "空调滤芯更换",
    "节气门清洗",
    "更换火花塞",
]
STATUS = ["已结算", "在修", "未结算", "作废", "已取消"]
S_SETTLED, S_OPEN, S_UNSETTLED, S_VOID, S_CANCELLED = range(5)

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O, Q
VIN_WEIGHTS = np.array([8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2])
VIN_YEARS = "ABCDEFGHJKLMNPRSTVWXY"  # 2010 .. 2030
PLATE_ALNUM = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])

PART_ROWS = 500_000  # csv/parquet: rows per vehicle/customer part file
YEAR_FILE_MAX = 900_000  # csv/parquet: a year of ROs above this is split in halves
CHUNK = 250_000  # rows rendered at a time when writing CSV


# ------------------------------------------------------------------------------- helpers
def sd(values) -> np.ndarray:
    return np.asarray(values, dtype=SD)


def cat(*parts) -> np.ndarray:
    """Element-wise string concatenation of arrays and scalars."""
    out = parts[0] if not isinstance(parts[0], str) else sd([parts[0]])
    out = np.asarray(out).astype(SD)
    for p in parts[1:]:
        out = np.strings.add(out, p if isinstance(p, str) else np.asarray(p).astype(SD))
    return out


def ints(a, width: int = 0) -> np.ndarray:
    s = np.asarray(a).astype(np.int64).astype(SD)
    return np.strings.zfill(s, width) if width else s


def ascii_rows(codes: np.ndarray) -> np.ndarray:
    """(n, k) uint8 ASCII codes -> n strings."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    return codes.view(f"S{codes.shape[1]}").ravel().astype(SD)


def pick(rng, choices, n, p=None) -> np.ndarray:
    return rng.choice(len(choices), n, p=None if p is None else np.asarray(p) / np.sum(p))


def ymd(days: np.ndarray):
    d = np.asarray(days).astype("M8[D]")
    y = d.astype("M8[Y]").astype(np.int64) + 1970
    m = d.astype("M8[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("M8[M]").astype("M8[D]")).astype(np.int64) + 1
    return y, m, dd


def add_months(days: np.ndarray, months) -> np.ndarray:
    d = np.asarray(days).astype("M8[D]")
    m0 = d.astype("M8[M]")
    dom = (d - m0.astype("M8[D]")).astype(np.int64)
    m1 = m0 + np.asarray(months).astype("m8[M]")
    last = ((m1 + 1).astype("M8[D]") - m1.astype("M8[D]")).astype(np.int64) - 1
    return m1.astype("M8[D]").astype(np.int64) + np.minimum(dom, last)


def month_end(days: np.ndarray) -> np.ndarray:
    m = np.asarray(days).astype("M8[D]").astype("M8[M]")
    return (m + 1).astype("M8[D]").astype(np.int64) - 1


_CLOSED_BASE = CHUXI[0] - 10
_SHIFT = np.zeros(CHUXI[-1] + 10 - _CLOSED_BASE, dtype=np.int64)
for _c in CHUXI:  # a loop over holidays, not rows
    for _k in range(4):
        _SHIFT[_c + _k - _CLOSED_BASE] = 4 - _k


def open_day(days: np.ndarray) -> np.ndarray:
    """Move days falling in 除夕..初三 to the day the workshop reopens."""
    days = np.asarray(days, dtype=np.int64)
    idx = np.clip(days - _CLOSED_BASE, 0, len(_SHIFT) - 1)
    inside = (days >= _CLOSED_BASE) & (days < _CLOSED_BASE + len(_SHIFT))
    return days + np.where(inside, _SHIFT[idx], 0)


def date_text(days: np.ndarray, style: str) -> np.ndarray:
    """The text date formats seen in DMS exports."""
    if style in ("iso", "dot", "compact"):
        iso = np.datetime_as_string(np.asarray(days).astype("M8[D]")).astype(SD)
        return (
            iso if style == "iso" else np.strings.replace(iso, "-", "." if style == "dot" else "")
        )
    y, m, d = ymd(days)
    if style == "slash":
        return cat(ints(y), "/", ints(m), "/", ints(d))
    if style == "zh":
        return cat(ints(y), "年", ints(m), "月", ints(d), "日")
    raise ValueError(style)


def dt_text(secs: np.ndarray, style: str = "iso") -> np.ndarray:
    secs = np.asarray(secs, dtype=np.int64)
    if style == "iso":
        s = np.datetime_as_string(secs.astype("M8[s]"), unit="s").astype(SD)
        return np.strings.replace(s, "T", " ")
    if style == "slash_time":  # 2025/5/7 9:12
        tod = secs % 86400
        return cat(
            date_text(secs // 86400, "slash"),
            " ",
            ints(tod // 3600),
            ":",
            ints(tod % 3600 // 60, 2),
        )
    return date_text(secs // 86400, style)


# ------------------------------------------------------------------------------- columns
@dataclass
class Col:
    """One output column, rendered per format. kind: str | date | dt | int | money.
    values: SD strings ('' = empty) / int days / int seconds / ints / int cents, with NAT
    (or `missing`) for empty. text: per-row text that replaces the value ('' = none): the
    dirt (text dates, `1.2万` mileage)."""

    kind: str
    values: np.ndarray
    text: np.ndarray | None = None
    missing: np.ndarray | None = None

    def take(self, idx) -> "Col":
        return Col(
            self.kind,
            self.values[idx],
            None if self.text is None else self.text[idx],
            None if self.missing is None else self.missing[idx],
        )

    def _missing(self) -> np.ndarray:
        if self.kind == "str":
            return self.values == ""
        if self.missing is not None:
            return self.missing
        return self.values == NAT

    def csv(self) -> np.ndarray:
        v, miss = self.values, self._missing()
        if self.kind == "str":
            out = v
        elif self.kind == "date":
            out = date_text(np.where(miss, 0, v), "iso")
        elif self.kind == "dt":
            out = dt_text(np.where(miss, 0, v))
        elif self.kind == "int":
            out = ints(v)
        elif self.kind == "money":
            a = np.abs(v)
            out = cat(np.where(v < 0, "-", ""), ints(a // 100), ".", ints(a % 100, 2))
        else:
            raise ValueError(self.kind)
        if self.kind != "str" and miss.any():
            out = np.where(miss, "", out)
        if self.text is not None:
            out = np.where(self.text != "", self.text, out)
        return out

    def xlsx(self) -> list:
        v, miss = self.values, self._missing()
        if self.kind == "str":
            out = v.astype(object)
        elif self.kind == "date":
            out = v.astype("M8[D]").astype(object)  # datetime.date / None
        elif self.kind == "dt":
            out = v.astype("M8[s]").astype(object)  # datetime.datetime / None
        elif self.kind == "int":
            out = v.astype(object)
        elif self.kind == "money":
            out = (v / 100.0).astype(object)
        else:
            raise ValueError(self.kind)
        out[miss] = None
        if self.text is not None:
            t = self.text != ""
            out[t] = self.text[t].astype(object)
        return out.tolist()

    def parquet(self):
        v, miss = self.values, self._missing()
        if self.kind == "str":
            out = v.astype(object)
            out[miss] = None
            return out
        if self.kind in ("date", "dt"):  # typed; text dirt is not kept
            return (v.astype("M8[D]") if self.kind == "date" else v.astype("M8[s]")).astype("M8[s]")
        if self.kind == "int" and self.text is not None:  # mileage keeps its dirt: text column
            out = self.csv().astype(object)
            out[out == ""] = None
            return out
        if self.kind == "int":
            return np.where(miss, np.nan, v.astype(np.float64))
        return np.where(miss, np.nan, v / 100.0)  # money


@dataclass
class Table:
    name: str  # vehicles | customers | repair_orders
    headers: list[str]
    cols: list[Col]

    def __len__(self) -> int:
        return len(self.cols[0].values)

    def take(self, idx) -> "Table":
        return Table(self.name, self.headers, [c.take(idx) for c in self.cols])


# ------------------------------------------------------------------------- fleet: people
@dataclass
class Fleet:
    n: int
    owner: np.ndarray  # vehicle -> customer index
    brand: np.ndarray
    model: np.ndarray
    delivery: np.ndarray  # int days
    registration: np.ndarray  # int days or NAT
    operating: np.ndarray  # 营运
    daily_km: np.ndarray
    phase: np.ndarray
    odo: np.ndarray
    profile: np.ndarray  # 0 never, 1 services elsewhere, 2 loyal, 3 stopper
    p_show: np.ndarray
    status: np.ndarray  # 0 正常, 1 已报废, 2 已过户, 3 已转卖
    status_day: np.ndarray  # int days or NAT
    vin: np.ndarray  # as the DMS holds it (dirt included)
    plate: np.ndarray
    in_file: np.ndarray  # False: appears only in ROs
    wash_lover: np.ndarray
    customers: dict = field(default_factory=dict)
    n_customers: int = 0
    cust_advisor: np.ndarray | None = None
    advisors: np.ndarray | None = None


def make_people(
    rng, n: int, is_org: np.ndarray, fleet_cust: np.ndarray, region: np.ndarray
) -> dict:
    """Customer columns (客户档案), vectorised."""
    gender_m = rng.random(n) < 0.62
    sur = sd(list(SURNAMES))[rng.integers(0, len(SURNAMES), n)]
    gm, gf = sd(list(GIVEN_MALE)), sd(list(GIVEN_FEMALE))
    g1 = np.where(gender_m, gm[rng.integers(0, len(gm), n)], gf[rng.integers(0, len(gf), n)])
    g2 = np.where(gender_m, gm[rng.integers(0, len(gm), n)], gf[rng.integers(0, len(gf), n)])
    name = cat(sur, g1, np.where(rng.random(n) < 0.3, "", g2))
    words, trades = sd(ORG_WORDS), sd(ORG_TRADES)
    org_name = cat(
        "深圳市",
        words[rng.integers(0, len(words), n)],
        trades[rng.integers(0, len(trades), n)],
        "有限公司",
    )
    taxi_name = cat("深圳市", words[rng.integers(0, len(words), n)], "出租汽车有限公司")
    name = np.where(is_org, np.where(fleet_cust, taxi_name, org_name), name)

    # birthdays and ID numbers (MOD 11-2 check character)
    age = np.clip(rng.normal(39, 10, n), 22, 75)
    born = EXPORT_DAY - (age * 365.25).astype(np.int64) - rng.integers(0, 365, n)
    y, m, d = ymd(born)
    area = np.array([[int(c) for c in a] for a in ID_AREAS])[rng.integers(0, len(ID_AREAS), n)]
    seq = rng.integers(0, 100, n) * 10 + np.where(
        gender_m, rng.choice([1, 3, 5, 7, 9], n), rng.choice([0, 2, 4, 6, 8], n)
    )
    born8 = y * 10000 + m * 100 + d
    digits = np.empty((n, 18), dtype=np.int64)
    digits[:, :6] = area
    digits[:, 6:14] = born8[:, None] // 10 ** np.arange(7, -1, -1) % 10
    digits[:, 14:17] = seq[:, None] // 10 ** np.arange(2, -1, -1) % 10
    check = np.frombuffer(b"10X98765432", dtype=np.uint8)[
        (digits[:, :17] * ID_WEIGHTS).sum(axis=1) % 11
    ]
    bad = rng.random(n) < 0.02  # DIRT: bad check character
    check = np.where(
        bad, np.frombuffer(b"0123456789X", dtype=np.uint8)[rng.integers(0, 11, n)], check
    )
    codes = (digits + 48).astype(np.uint8)
    codes[:, 17] = check
    id_no = ascii_rows(codes)
    has_bday = rng.random(n) < 0.60
    id_no = np.where((rng.random(n) > np.where(has_bday, 0.70, 0.93)) | is_org, "", id_no)
    styles = ["slash", "dot", "compact", "zh", "iso"]
    bday_text = np.full(n, "", dtype=SD)
    as_text = has_bday & (rng.random(n) < 0.35)  # DIRT: birthday as text
    style = rng.integers(0, len(styles), n)
    for i, s in enumerate(styles):
        sel = as_text & (style == i)
        bday_text[sel] = date_text(born[sel], s)
    birthday = np.where(has_bday & ~is_org, born, NAT)
    gender = np.where(gender_m, "男", "女").astype(SD)
    gender = np.where(is_org | (rng.random(n) < 0.04), "", gender)

    # phones: every shape the data contract lists
    pre = sd(MOBILE_PREFIXES)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    num = rng.integers(0, 100_000_000, n)
    mobile = cat(pre, ints(num, 8))
    area_code = sd([r[2] for r in REGIONS])[region]
    landline = cat(area_code, "-", ints(rng.integers(20_000_000, 90_000_000, n)))
    u = rng.random(n)
    cell = mobile
    cell = np.where(u < 0.145, sd(["12345"])[0], cell)  # invalid
    cell = np.where(u < 0.14, "", cell)  # none
    cell = np.where(u < 0.12, landline, cell)  # landline in the mobile column
    cell = np.where(u < 0.105, cat(mobile, "/", landline), cell)  # two numbers
    cell = np.where(u < 0.09, cat(pre, "-", ints(num // 10000, 4), "-", ints(num % 10000, 4)), cell)
    cell = np.where(u < 0.06, cat("+86 ", mobile), cell)
    cell = np.where(u < 0.03, cat(pre, "****", ints(num % 10000, 4)), cell)  # masked
    phone = np.where(rng.random(n) < 0.12, landline, "")
    phone = np.where((u >= 0.13) & (u < 0.14), landline, phone)

    # addresses
    dist_flat = sd([dd for r in REGIONS for dd in r[3]])
    dist_off = np.cumsum([0] + [len(r[3]) for r in REGIONS])[:-1]
    dist_cnt = np.array([len(r[3]) for r in REGIONS])
    di = dist_off[region] + (rng.random(n) * dist_cnt[region]).astype(np.int64)
    address = cat(
        sd([r[0] for r in REGIONS])[region],
        dist_flat[di],
        sd(ROADS)[rng.integers(0, len(ROADS), n)],
        ints(rng.integers(1, 4000, n)),
        "号",
        words[rng.integers(0, len(words), n)],
        sd(ESTATES)[rng.integers(0, len(ESTATES), n)],
        ints(rng.integers(1, 31, n)),
        "栋",
        ints(rng.integers(1, 34, n)),
        ints(rng.integers(1, 9, n), 2),
    )
    address = np.where(rng.random(n) < 0.88, address, "")
    ud = rng.random(n)
    dnd = np.where(ud < 0.02, "是", np.where(ud < 0.72, "否", "")).astype(SD)
    kind = np.where(is_org, "单位", "个人").astype(SD)
    cid = cat("KH", ints(np.arange(1, n + 1), 7))
    return {
        "客户编号": cid,
        "客户名称": name,
        "手机号码": cell,
        "联系电话": phone,
        "性别": gender,
        "生日": (birthday, bday_text),
        "身份证号": id_no,
        "客户类型": kind,
        "地址": address,
        "免打扰": dnd,
    }


def make_fleet(rng, n_v: int) -> Fleet:
    # customers and how many cars each owns
    m = n_v + 100
    u = rng.random(m)
    counts = np.where(u < 0.90, 1, np.where(u < 0.975, 2, 3))
    is_org = rng.random(m) < 0.035
    counts = np.where(is_org, rng.integers(1, 4, m), counts)
    fleet_cust = rng.random(m) < 0.0012  # taxi / rental fleets
    counts = np.where(fleet_cust, rng.integers(10, 41, m), counts)
    is_org |= fleet_cust
    cum = np.cumsum(counts)
    n_c = int(np.searchsorted(cum, n_v)) + 1
    counts = counts[:n_c].copy()
    counts[-1] -= cum[n_c - 1] - n_v
    owner = np.repeat(np.arange(n_c), counts)
    n_nocar = max(1, n_c // 50)  # customers without a car in the file
    n_cust = n_c + n_nocar
    is_org = np.concatenate([is_org[:n_c], np.zeros(n_nocar, bool)])
    fleet_cust = np.concatenate([fleet_cust[:n_c], np.zeros(n_nocar, bool)])
    region = pick(rng, REGIONS, n_cust, [r[4] for r in REGIONS])
    region[is_org] = 0

    # brand and model
    models = [
        (b, mname, spec[0] * w / sum(x[1] for x in spec[3]))
        for b, spec in BRANDS.items()
        for mname, w in spec[3]
    ]
    model_names = [mm for _, mm, _ in models]
    brand_names = list(BRANDS)
    model = pick(rng, models, n_v, [p for _, _, p in models])
    veh_fleet = fleet_cust[owner]
    taxi_idx = np.array([model_names.index(t) for t in TAXI_MODELS])
    model = np.where(veh_fleet, taxi_idx[owner % len(TAXI_MODELS)], model)
    model_brand = np.array([brand_names.index(b) for b, _, _ in models])
    brand = model_brand[model]
    operating = veh_fleet | (rng.random(n_v) < 0.005)

    # delivery: growing sales, month-end pushes, fleets in batches
    span = EXPORT_DAY - 1 - DELIVERY_START
    delivery = DELIVERY_START + (span * rng.random(n_v) ** 0.8).astype(np.int64)
    push = rng.random(n_v) < 0.25
    delivery = np.where(push, month_end(delivery) - rng.integers(0, 4, n_v), delivery)
    batch = DELIVERY_START + (span * rng.random(n_cust) ** 0.7).astype(np.int64)
    delivery = np.where(veh_fleet, batch[owner] + rng.integers(0, 4, n_v), delivery)
    delivery = open_day(np.minimum(delivery, EXPORT_DAY - 1))
    delivery = np.minimum(delivery, EXPORT_DAY - 1)
    registration = delivery + rng.integers(3, 13, n_v)
    registration = np.where(registration > EXPORT_DAY, NAT, registration)

    daily_km = np.clip(rng.lognormal(np.log(40), 0.42, n_v), 10, 150)
    daily_km = np.where(operating, rng.uniform(110, 150, n_v), daily_km)
    phase = rng.uniform(0, 2 * np.pi, n_v)
    odo = rng.integers(3, 26, n_v)

    # loyalty profile and status
    up = rng.random(n_v)
    profile = np.where(up < 0.08, 0, np.where(up < 0.15, 1, np.where(up < 0.45, 2, 3)))
    p_show = np.where(profile == 2, rng.uniform(0.7, 0.95, n_v), rng.uniform(0.5, 0.9, n_v))
    profile = np.where(operating, 2, profile)
    p_show = np.where(operating, rng.uniform(0.55, 0.8, n_v), p_show)
    old = delivery < day("2024-06-01")
    us = rng.random(n_v)
    status = np.where(
        old & (us < 0.012), 1, np.where(old & (us < 0.024), rng.integers(2, 4, n_v), 0)
    )
    lo, hi = delivery + 400, EXPORT_DAY - 60
    status_day = np.where(
        status > 0, lo + (rng.random(n_v) * np.maximum(hi - lo, 1)).astype(np.int64), NAT
    )

    # VIN: WMI + VDS + check digit + model year + plant + serial (ISO 3779)
    wmis = [spec[1] for spec in BRANDS.values()]
    wmi_flat = [w for ws in wmis for w in ws]
    wmi_off = np.cumsum([0] + [len(w) for w in wmis])[:-1]
    wmi_cnt = np.array([len(w) for w in wmis])
    wi = wmi_off[brand] + (rng.random(n_v) * wmi_cnt[brand]).astype(np.int64)
    wmi_codes = np.frombuffer("".join(wmi_flat).encode(), dtype=np.uint8).reshape(-1, 3)
    vin = np.empty((n_v, 17), dtype=np.uint8)
    vin[:, :3] = wmi_codes[wi]
    vin_chars = np.frombuffer(VIN_CHARS.encode(), dtype=np.uint8)
    vin[:, 3:8] = vin_chars[rng.integers(0, len(vin_chars), (n_v, 5))]
    dy, dm, _ = ymd(delivery)
    model_year = np.clip(dy + ((dm >= 10) & (rng.random(n_v) < 0.4)), 2010, 2030)
    vin[:, 9] = np.frombuffer(VIN_YEARS.encode(), dtype=np.uint8)[model_year - 2010]
    vin[:, 10] = np.frombuffer(b"0123456789ABCDEFGHJ", dtype=np.uint8)[rng.integers(0, 19, n_v)]
    serial = (np.arange(n_v, dtype=np.int64) * 7919 + 100_000) % 1_000_000
    vin[:, 11:17] = (serial[:, None] // 10 ** np.arange(5, -1, -1) % 10 + 48).astype(np.uint8)
    translit = np.zeros(128, dtype=np.int64)
    for ch, val in zip("0123456789", range(10)):
        translit[ord(ch)] = val
    for letters, start in (("ABCDEFGH", 1), ("JKLMN", 1), ("STUVWXYZ", 2)):
        for k, ch in enumerate(letters):
            translit[ord(ch)] = start + k
    translit[ord("P")], translit[ord("R")] = 7, 9
    vin[:, 8] = 0
    r = (translit[vin] * VIN_WEIGHTS).sum(axis=1) % 11
    check = np.frombuffer(b"0123456789X", dtype=np.uint8)
    wrong = rng.random(n_v) < 0.01  # DIRT: wrong check digit
    r = np.where(wrong, (r + rng.integers(1, 11, n_v)) % 11, r)
    vin[:, 8] = check[r]
    vin_s = ascii_rows(vin)

    # plates: unique per prefix (an affine permutation of the rank within the prefix)
    prefixes = [r[1] for r in REGIONS]
    pre = region[owner].copy()
    pre = np.where(rng.random(n_v) < 0.05, 0, pre)
    nev = np.isin(np.array(model_names)[model], list(NEV_MODELS)) & np.char.startswith(
        np.array(prefixes)[pre], "粤"
    )
    key = pre * 2 + nev
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sk)) + 1]
    lens = np.diff(np.r_[starts, len(sk)])
    rank = np.empty(n_v, dtype=np.int64)
    rank[order] = np.arange(n_v) - np.repeat(starts, lens)
    s_plain, s_nev = 34 * 34 * 1000, 2 * 100_000
    code_plain = (rank * 23757 + 4321 + key * 7) % s_plain
    code_nev = (rank * 7919 + 1234) % s_nev
    alnum = np.frombuffer(PLATE_ALNUM.encode(), dtype=np.uint8)
    body = np.empty((n_v, 5), dtype=np.uint8)
    body[:, 0] = alnum[code_plain // 34000]
    body[:, 1] = alnum[code_plain // 1000 % 34]
    body[:, 2:5] = (code_plain[:, None] // np.array([100, 10, 1]) % 10 + 48).astype(np.uint8)
    plain = ascii_rows(body)
    green = cat(np.where(code_nev < 100_000, "D", "F"), ints(code_nev % 100_000, 5))
    plate = cat(sd(prefixes)[pre], np.where(nev, green, plain))
    plate = np.where(registration == NAT, "", plate)

    in_file = rng.random(n_v) >= 0.003  # a few cars only in ROs
    blank_vin = (rng.random(n_v) < 0.001) & (plate != "")  # DIRT: VIN never captured
    vin_s = np.where(blank_vin, "", vin_s)

    customers = make_people(rng, n_cust, is_org, fleet_cust, region)
    n_adv = max(6, n_v // 4000)
    adv_names = make_people_names(rng, n_adv)
    cust_adv = rng.integers(0, n_adv, n_cust)
    return Fleet(
        n_v,
        owner,
        brand,
        model,
        delivery,
        registration,
        operating,
        daily_km,
        phase,
        odo,
        profile,
        p_show,
        status,
        status_day,
        vin_s,
        plate,
        in_file,
        rng.random(n_v) < 0.4,
        customers,
        n_cust,
        cust_adv,
        adv_names,
    )


def make_people_names(rng, n: int) -> np.ndarray:
    """n distinct 2-3 character names (service advisors)."""
    names = np.unique(
        cat(
            sd(list(SURNAMES))[rng.integers(0, len(SURNAMES), 4 * n + 50)],
            sd(list(GIVEN_MALE + GIVEN_FEMALE))[rng.integers(0, 80, 4 * n + 50)],
            np.where(
                rng.random(4 * n + 50) < 0.5,
                "",
                sd(list(GIVEN_MALE + GIVEN_FEMALE))[rng.integers(0, 80, 4 * n + 50)],
            ),
        )
    )
    return names[rng.permutation(len(names))[:n]]


# ---------------------------------------------------------------------------- ROs: events
def km_at(f: Fleet, v: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Odometer on a day: a seasonal but strictly increasing curve per vehicle."""
    t = np.maximum(days - f.delivery[v], 0).astype(np.float64)
    w, a = 2 * np.pi / 365.0, 0.25
    ph = f.phase[v]
    return (f.odo[v] + f.daily_km[v] * (t + a / w * (np.sin(w * t + ph) - np.sin(ph)))).astype(
        np.int64
    )


def segmented_arange(counts: np.ndarray) -> np.ndarray:
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def make_events(rng, f: Fleet, target: int):
    """(vehicle, day, category, big service?) of every RO, about `target` of them."""
    n = f.n
    vidx = np.arange(n)
    dlv = f.delivery
    stop = np.where(f.status_day != NAT, f.status_day, EXPORT_DAY)
    quit_ = dlv + (rng.uniform(0.3, 4.0, n) * 365).astype(np.int64)  # stoppers
    leave = dlv + (rng.uniform(4.0, 12.0, n) * 365).astype(
        np.int64
    )  # loyal ones, when the car is old
    a1 = dlv.copy()
    b1 = np.where(
        f.profile == 3,
        np.minimum(quit_, stop),
        np.where(f.operating, stop, np.minimum(leave, stop)),
    )
    b1 = np.where(f.profile == 0, a1 - 1, b1)  # never back after delivery
    back = quit_ + rng.integers(200, 601, n)
    wins = (f.profile == 3) & (quit_ < stop - 300) & (rng.random(n) < 0.22) & (back < stop)
    a2 = np.where(wins, back, 1)
    b2 = np.where(wins, np.minimum(stop, back + rng.integers(60, 901, n)), 0)

    def active(v, d):
        return ((d >= a1[v]) & (d <= b1[v])) | ((d >= a2[v]) & (d <= b2[v]))

    out_v, out_d, out_c, out_big = [], [], [], []

    def add(v, d, c, big=None):
        keep = (d >= RO_START) & (d <= EXPORT_DAY)
        out_v.append(v[keep].astype(np.int32))
        out_d.append(d[keep].astype(np.int32))
        out_c.append(np.full(int(keep.sum()), C[c], np.int8))
        out_big.append(np.zeros(int(keep.sum()), bool) if big is None else big[keep])
        return int(keep.sum())

    # PDI / 新车整备 at delivery
    sel = f.in_file & (f.vin != "") & (rng.random(n) < 0.75)
    n_pdi = add(vidx[sel], open_day(dlv[sel] - rng.integers(0, 3, int(sel.sum()))), "internal")

    # first service 2-4 months after delivery, around 5,000 km
    has_fs = (f.profile >= 2) & (rng.random(n) < 0.97)
    fs = dlv + np.clip(
        np.minimum(90, 5000 / f.daily_km) * rng.uniform(0.8, 1.35, n), 40, 125
    ).astype(np.int64)
    fs = open_day(fs)
    shown = has_fs & active(vidx, fs) & (fs <= stop)
    n_fs = add(vidx[shown], fs[shown], "first_service")

    # recalls
    model_names = [mm for spec in BRANDS.values() for mm, _ in spec[3]]
    brand_names = list(BRANDS)
    n_camp = 0
    for brand, models, d_from, d_to, start in CAMPAIGNS:  # a loop per campaign
        hit = (
            (f.brand == brand_names.index(brand))
            & np.isin(f.model, [model_names.index(m) for m in models])
            & (dlv >= day(d_from))
            & (dlv <= day(d_to))
        )
        v = vidx[hit]
        d = open_day(day(start) + rng.exponential(45, len(v)).astype(np.int64))
        ok = (d <= stop[v]) & (rng.random(len(v)) < np.where(active(v, d), 0.65, 0.15))
        n_camp += add(v[ok], d[ok], "campaign")

    # maintenance every 6 months or 5,000 km, late by a vehicle-specific factor
    months, km_step = SERVICE_INTERVAL[f.brand, 0], SERVICE_INTERVAL[f.brand, 1]
    interval = np.minimum(months * 30.4, km_step / f.daily_km)
    late = np.where(f.profile == 2, rng.uniform(0.85, 1.25, n), rng.uniform(0.9, 1.6, n))
    step = interval * late
    k_max = np.where(has_fs, np.maximum((stop - fs) / step, 0).astype(np.int64), 0)
    k_max = np.where(fs > EXPORT_DAY, 0, k_max)
    rep = np.repeat(vidx.astype(np.int32), k_max)
    k = segmented_arange(k_max) + 1
    d = fs[rep] + (k * step[rep] + rng.uniform(-0.1, 0.1, len(rep)) * interval[rep]).astype(
        np.int64
    )
    d = open_day(d)
    km_now = km_at(f, rep, d)
    km_prev = km_at(f, rep, d - step[rep].astype(np.int64))
    big = km_now // 30000 > km_prev // 30000
    keep = (
        (d <= stop[rep]) & (d >= RO_START) & active(rep, d) & (rng.random(len(rep)) < f.p_show[rep])
    )
    del km_now, km_prev
    n_maint = int(keep.sum())
    cap = int(MAX_SERVICE_SHARE * target) - n_pdi - n_fs - n_camp
    STATS["maintenance_thinned_to"] = min(1.0, cap / max(n_maint, 1))
    if n_maint > cap:  # thin: more dropout
        keep &= rng.random(len(rep)) < cap / n_maint
    n_maint = add(rep[keep], d[keep], "maintenance", big[keep])
    del rep, k, d, big, keep

    # everything else fills the target: repairs, washes, bodyshop, warranty, unknown
    rest = max(0, target - n_pdi - n_fs - n_camp - n_maint)
    lo1, hi1 = np.maximum(a1, RO_START), np.minimum(b1, EXPORT_DAY)
    lo2, hi2 = np.maximum(a2, RO_START), np.minimum(b2, EXPORT_DAY)
    age_mid = ((lo1 + hi1) / 2 - dlv) / 365.0
    for c, share in OTHER_SHARES.items():  # a loop per category
        cnt = (
            int(round(rest * share))
            if c != "unknown"
            else rest
            - sum(int(round(rest * s)) for cc, s in OTHER_SHARES.items() if cc != "unknown")
        )
        e1, e2 = hi1, hi2
        if c == "warranty":  # first three years
            e1 = np.minimum(hi1, dlv + 3 * 365)
            e2 = np.minimum(hi2, dlv + 3 * 365)
        l1 = np.maximum(e1 - lo1 + 1, 0)
        l2 = np.maximum(e2 - lo2 + 1, 0)
        w = (l1 + l2).astype(np.float64)
        if c == "repair":
            w *= np.where(f.profile == 1, 0.6, 1.0) * (0.5 + np.clip(age_mid, 0, 6) / 4)
        elif c == "wash":
            w *= np.where(f.wash_lover, 10.0, 1.0)
        if w.sum() <= 0 or cnt <= 0:
            continue
        v = rng.choice(n, cnt, p=w / w.sum())
        x = (rng.random(cnt) * (l1[v] + l2[v])).astype(np.int64)
        d = np.where(x < l1[v], lo1[v] + x, lo2[v] + x - l1[v])
        add(v, open_day(d), c)

    return (
        np.concatenate(out_v),
        np.concatenate(out_d),
        np.concatenate(out_c),
        np.concatenate(out_big),
    )


# ------------------------------------------------------------------------- ROs: details
@dataclass
class ROs:
    veh: np.ndarray
    open_s: np.ndarray  # seconds
    cat: np.ndarray
    kind: np.ndarray  # index in KINDS
    km: np.ndarray
    km_dirt: np.ndarray  # 0 none, 1 `1.2万`, 2 `12,345`, 3 `12345km`, 4 `12345 公里`
    km_missing: np.ndarray
    amount: np.ndarray  # cents
    appt: np.ndarray
    advisor: np.ndarray
    status: np.ndarray  # own status (已结算 / 作废 / 已取消)
    close_s: np.ndarray
    promised_s: np.ndarray
    delivered_s: np.ndarray
    declined1: np.ndarray  # index in DECLINED_ITEMS, -1 none
    declined2: np.ndarray
    declined_day: np.ndarray
    plate_shown: np.ndarray  # the RO shows the car's plate (not before registration, not PDI)
    vin_blank: np.ndarray
    csv_style: np.ndarray  # 0 iso, 1 slash, 2 compact
    xlsx_style: np.ndarray  # 0 datetime, 1 slash_time, 2 dot, 3 zh
    blank_close: np.ndarray
    true_delivered: np.ndarray  # when the car was really handed back (for a cutoff's status)
    seq: np.ndarray | None = None  # number of the RO in its day (工单号 = RO + date + seq)
    seq_width: int = 3

    def __len__(self):
        return len(self.veh)

    def take(self, idx) -> "ROs":
        return ROs(
            **{k: (v[idx] if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        )


def make_ros(rng, f: Fleet, n_target: int) -> ROs:
    base = int(round(n_target / 1.013))  # the 作废 / 已取消 extras add ~1.3%
    veh, dd, cat_, big = make_events(rng, f, base)
    n = len(veh)
    veh = veh.astype(np.int64)
    dd = dd.astype(np.int64)

    # kind (维修类型)
    kind = np.zeros(n, dtype=np.int64)
    off = 0
    for ci, cname in enumerate(CATEGORIES):  # a loop per category
        names = KIND_NAMES[cname]
        sel = cat_ == ci
        w = np.array([x[1] for x in names], dtype=float)
        kind[sel] = off + rng.choice(len(names), int(sel.sum()), p=w / w.sum())
        off += len(names)
    kind = np.where(big, BIG_SERVICE, kind)

    # appointment and opening time
    t = (dd - RO_START) / (EXPORT_DAY - RO_START)
    factor = np.array([0.0, 1.2, 1.2, 0.75, 0.5, 0.9, 1.1, 0.4, 0.6])[cat_]
    appt = rng.random(n) < np.minimum((0.25 + 0.2 * t) * factor, 0.95)
    slots = np.array([510, 540, 540, 570, 600, 600, 630, 660, 810, 840, 870, 900, 960])
    minute = np.where(
        appt,
        slots[rng.integers(0, len(slots), n)] + rng.integers(-5, 11, n),
        rng.triangular(480, 570, 1049, n).astype(np.int64),
    )
    open_s = dd * 86400 + minute * 60 + rng.integers(0, 60, n)

    # mileage
    km = km_at(f, veh, dd)
    pdi = cat_ == C["internal"]
    km = np.where(pdi, rng.integers(3, 26, n) % (f.odo[veh] + 1), km)

    # amount (cents)
    amount = np.zeros(n)
    spec = {
        "first_service": ("zero_or", 0.65, 120, 300),
        "maintenance": ("logn", 620, 0.25, 400, 1500),
        "repair": ("logn", 900, 0.7, 200, 5000),
        "bodyshop": ("logn", 3500, 0.7, 1000, 15000),
        "warranty": ("zero_or", 0.6, 200, 3000),
        "internal": ("zero_or", 0.7, 80, 300),
        "wash": ("logn", 80, 0.9, 35, 1200),
        "unknown": ("logn", 600, 0.6, 198, 2400),
    }
    for cname, sp in spec.items():  # a loop per category
        sel = cat_ == C[cname]
        m = int(sel.sum())
        if sp[0] == "logn":
            amount[sel] = np.clip(rng.lognormal(np.log(sp[1]), sp[2], m), sp[3], sp[4])
        else:
            amount[sel] = np.where(rng.random(m) < sp[1], 0.0, rng.uniform(sp[2], sp[3], m))
    amount = np.where(kind == BIG_SERVICE, rng.uniform(900, 1500, n), amount)
    whole = rng.random(n) < 0.5
    amount = np.where(whole & (amount > 100), np.round(amount), np.round(amount, 2))
    cents = np.round(amount * 100).astype(np.int64)

    # advisor: mostly the customer's own
    own = f.cust_advisor[f.owner[veh]]
    advisor = np.where(rng.random(n) < 0.7, own, rng.integers(0, len(f.advisors), n))

    # hand-back and settlement times
    hours = np.array([HOURS[c] for c in CATEGORIES])
    dur = rng.uniform(hours[cat_, 0], hours[cat_, 1]) * 3600
    promised = (open_s + dur.astype(np.int64)) // 1800 * 1800
    tod = promised % 86400  # promised within opening hours
    promised = promised - tod + np.where(tod < 8 * 3600, 10 * 3600, np.minimum(tod, 18 * 3600))
    promised = np.maximum(promised, open_s + 1800 - (open_s + 1800) % 1800)
    u = rng.random(n)
    delivered = np.where(
        u < 0.85,
        promised - rng.integers(0, 91, n) * 60,
        np.where(
            u < 0.95,
            promised + rng.integers(10, 151, n) * 60,
            promised + rng.integers(1, 3, n) * 86400 + rng.integers(0, 121, n) * 60,
        ),
    )
    delivered = np.maximum(delivered, open_s + 1800) // 60 * 60
    late_settle = rng.random(n) < 0.08
    close = (
        delivered
        + rng.integers(0, 31, n) * 60
        + np.where(late_settle, rng.integers(1, 4, n) * 86400, 0)
    )
    recorded = (dd >= TIMES_SINCE) & (rng.random(n) < 0.92)
    promised = np.where(recorded, promised, NAT)
    delivered_rec = np.where(recorded, delivered, NAT)

    # declined items (建议维修项目)
    dec = np.isin(cat_, [C["first_service"], C["maintenance"], C["repair"]]) & (
        rng.random(n) < 0.075
    )
    k = len(DECLINED_ITEMS)
    i1 = rng.integers(0, k, n)
    i2 = (i1 + rng.integers(1, k, n)) % k
    declined1 = np.where(dec, i1, -1).astype(np.int8)
    declined2 = np.where(dec & (rng.random(n) < 0.2), i2, -1).astype(np.int8)
    declined_day = np.where(dec & (rng.random(n) < 0.4), dd + rng.choice([30, 60, 90, 120], n), NAT)

    # plate / VIN as the RO shows them
    reg = f.registration[veh]
    plate_shown = ((reg != NAT) & (dd >= reg) & ~pdi) | (f.vin[veh] == "")

    ros = ROs(
        veh=veh,
        open_s=open_s,
        cat=cat_,
        kind=kind,
        km=km,
        km_dirt=np.zeros(n, np.int8),
        km_missing=np.zeros(n, bool),
        amount=cents,
        appt=appt,
        advisor=advisor,
        status=np.zeros(n, np.int8),
        close_s=close,
        promised_s=promised,
        delivered_s=delivered_rec,
        declined1=declined1,
        declined2=declined2,
        declined_day=declined_day,
        plate_shown=plate_shown,
        vin_blank=np.zeros(n, bool),
        csv_style=np.zeros(n, np.int8),
        xlsx_style=np.zeros(n, np.int8),
        blank_close=np.zeros(n, bool),
        true_delivered=delivered,
    )

    # DIRT: 作废 duplicates opened minutes before the real RO (~1%), 已取消 bookings (~0.3%)
    u = rng.random(n)
    void = np.flatnonzero(u < 0.01)
    canc = np.flatnonzero((u >= 0.01) & (u < 0.013) & appt)
    dv = ros.take(void)
    dv.open_s = dv.open_s - rng.integers(5, 41, len(void)) * 60
    dv.status[:] = S_VOID
    dc = ros.take(canc)
    dc.open_s = dc.open_s - rng.integers(1, 6, len(canc)) * 86400
    dc.status[:] = S_CANCELLED
    dc.amount[:] = 0
    dc.km_missing[:] = True
    keep_c = dc.open_s >= RO_START * 86400
    dc = dc.take(np.flatnonzero(keep_c))
    allr = concat_ros([ros, dv, dc])

    # order by opening time and number: RO + date + sequence of the day
    order = np.lexsort((allr.veh, allr.open_s))
    allr = allr.take(order)
    days = allr.open_s // 86400
    starts = np.r_[0, np.flatnonzero(np.diff(days)) + 1]
    lens = np.diff(np.r_[starts, len(days)])
    seq = np.arange(len(days)) - np.repeat(starts, lens) + 1
    allr.seq = seq.astype(np.int32)
    allr.seq_width = max(3, len(str(int(lens.max()))))
    inject_ro_dirt(rng, allr)
    return allr


def concat_ros(parts: list[ROs]) -> ROs:
    return ROs(
        **{
            k: (
                np.concatenate([p.__dict__[k] for p in parts])
                if isinstance(parts[0].__dict__[k], np.ndarray)
                else parts[0].__dict__[k]
            )
            for k in ROs.__dataclass_fields__
        }
    )


def inject_ro_dirt(rng, r: ROs) -> None:
    n = len(r)
    km = r.km
    u = rng.random(n)
    # DIRT: 1.2万 (0.4%), 12,345 (0.3%), 12345km / 12345 公里 (0.3%), typos, rollbacks, blanks
    wan = (u < 0.004) & (km >= 1000)
    comma = (u >= 0.004) & (u < 0.007) & (km >= 1000)
    unit = (u >= 0.007) & (u < 0.010)
    r.km_dirt = np.select(
        [wan, comma, unit], [1, 2, np.where(rng.random(n) < 0.8, 3, 4)], 0
    ).astype(np.int8)
    typo_hi = (u >= 0.010) & (u < 0.011) & (km >= 1000)
    typo_lo = (u >= 0.011) & (u < 0.012) & (km >= 10000)
    r.km = np.where(typo_hi, km * 10 + km % 10, np.where(typo_lo, km // 10, km))
    rollback = (u >= 0.012) & (u < 0.013) & (km >= 10000)
    r.km = np.where(rollback, km - rng.integers(2000, 8000, n), r.km)
    r.km_missing = r.km_missing | ((u >= 0.013) & (u < 0.016))
    # DIRT: VIN left blank on ~0.5% of ROs of cars that carry a plate
    r.vin_blank = r.plate_shown & (rng.random(n) < 0.005)
    # DIRT: CSV dates mostly ISO, ~6% 2023/5/7, ~1.5% 20230507; xlsx ~3% text dates
    u = rng.random(n)
    r.csv_style = np.where(u < 0.06, 1, np.where(u < 0.075, 2, 0)).astype(np.int8)
    u = rng.random(n)
    r.xlsx_style = np.where(u < 0.03, rng.integers(1, 4, n), 0).astype(np.int8)
    # DIRT: a few -1.00 amounts, a few settled ROs without a settlement date
    settled = r.status == S_SETTLED
    r.amount = np.where(settled & (rng.random(n) < 0.0015), -100, r.amount)
    r.blank_close = settled & (rng.random(n) < 0.004)


def ro_table(f: Fleet, r: ROs, cutoff: int, date_style: str) -> Table:
    """The RO export as taken at `cutoff` (seconds): unsettled ROs show 在修 (in the
    workshop) or 未结算 (handed back), without 结算日期 / 结算金额. date_style: csv|xlsx."""
    n = len(r)
    status = r.status.astype(np.int64)
    close, amount = r.close_s.copy(), r.amount.copy()
    delivered, promised = r.delivered_s.copy(), r.promised_s.copy()
    unsettled = (status == S_SETTLED) & (close > cutoff)
    handed = r.true_delivered <= cutoff
    status = np.where(unsettled, np.where(handed, S_UNSETTLED, S_OPEN), status)
    amount_missing = unsettled.copy()
    close = np.where(unsettled | r.blank_close | (status >= S_VOID), NAT, close)
    delivered = np.where(unsettled & ~handed, NAT, delivered)
    promised = np.where(
        unsettled & (promised != NAT) & (promised // 86400 > cutoff // 86400), NAT, promised
    )

    open_text = np.full(n, "", dtype=SD)
    close_text = np.full(n, "", dtype=SD)
    if date_style == "csv":
        styles = {1: "slash", 2: "compact"}
        codes = r.csv_style
    else:
        styles = {1: "slash_time", 2: "dot", 3: "zh"}
        codes = r.xlsx_style
    for code, style in styles.items():  # a loop per style
        sel = np.flatnonzero(codes == code)
        open_text[sel] = dt_text(r.open_s[sel], style)
        c = close[sel]
        has = c != NAT
        close_text[sel[has]] = dt_text(c[has], style)

    ro_no = cat("RO", date_text(r.open_s // 86400, "compact"), ints(r.seq, r.seq_width))
    plate = np.where(r.plate_shown, f.plate[r.veh], "")
    vin = np.where(r.vin_blank, "", f.vin[r.veh])
    km_text = np.full(n, "", dtype=SD)
    km = r.km
    for code in (1, 2, 3, 4):  # a loop per dirt kind
        sel = np.flatnonzero(r.km_dirt == code)
        k = km[sel]
        if code == 1:
            tenths = np.round(k / 1000).astype(np.int64)
            km_text[sel] = cat(ints(tenths // 10), ".", ints(tenths % 10), "万")
        elif code == 2:
            km_text[sel] = cat(ints(k // 1000), ",", ints(k % 1000, 3))
        else:
            km_text[sel] = cat(ints(k), "km" if code == 3 else " 公里")
    items = sd(DECLINED_ITEMS + [""])
    d1, d2 = r.declined1.astype(np.int64), r.declined2.astype(np.int64)
    declined = np.where(d2 >= 0, cat(items[d1], "、", items[d2]), items[d1])

    cols = [
        Col("str", ro_no),
        Col("str", plate),
        Col("str", vin),
        Col("dt", r.open_s, open_text),
        Col("dt", close, close_text),
        Col("int", r.km, km_text, r.km_missing),
        Col("str", sd(KINDS)[r.kind]),
        Col("money", amount, None, amount_missing),
        Col("str", np.where(r.appt, "是", "否").astype(SD)),
        Col("str", f.advisors[r.advisor]),
        Col("str", sd(STATUS)[status]),
        Col("dt", promised),
        Col("dt", delivered),
        Col("str", declined),
        Col("date", r.declined_day),
    ]
    return Table("repair_orders", RO_HEADERS, cols)


# --------------------------------------------------------------------- vehicles/customers
def vehicle_table(rng, f: Fleet) -> Table:
    idx = np.flatnonzero(f.in_file)
    idx = idx[np.argsort(f.owner[idx], kind="stable")]
    n = len(idx)
    dlv, reg, op = f.delivery[idx], f.registration[idx], f.operating[idx]
    has_reg = reg != NAT
    reg0 = np.where(has_reg, reg, dlv)
    # 年审到期日: the next due date of the inspection schedule, for about half; some stale
    months_since = (EXPORT_DAY - reg0) / 30.44
    nxt = np.where(
        op,
        np.where(
            months_since <= 60,
            np.ceil(np.maximum(months_since, 1) / 12) * 12,
            60 + np.ceil((months_since - 60) / 6) * 6,
        ),
        np.where(
            months_since <= 120,
            np.ceil(np.maximum(months_since, 1) / 24) * 24,
            120 + np.ceil((months_since - 120) / 12) * 12,
        ),
    ).astype(np.int64)
    insp = month_end(add_months(reg0, nxt))
    stale = rng.random(n) < 0.08  # DIRT: already past
    insp = np.where(stale, month_end(add_months(reg0, nxt - np.where(op, 12, 24))), insp)
    insp = np.where(has_reg & (rng.random(n) < 0.55), insp, NAT)
    warr_brand = np.array([spec[2] for spec in BRANDS.values()])[f.brand[idx]]
    warranty = np.where(warr_brand, add_months(dlv, 36) - 1, NAT)
    years = (EXPORT_DAY - dlv) // 365 + 1
    u = rng.random(n)
    nxt_ins = add_months(dlv, 12 * years) - 1
    nxt_ins = np.where(nxt_ins < EXPORT_DAY, add_months(dlv, 12 * (years + 1)) - 1, nxt_ins)
    past = add_months(dlv, 12 * rng.integers(1, np.maximum(years, 1) + 1)) - 1
    past = np.where(past >= EXPORT_DAY, add_months(past, -12), past)
    insurance = np.where(u < 0.58, nxt_ins, np.where(u < 0.95, past, NAT))
    insurance = np.where((insurance != NAT) & (insurance < dlv), NAT, insurance)
    c = rng.random(n)
    compulsory = np.where(
        c < 0.75, insurance, np.where(c < 0.9, insurance + rng.integers(-20, 21, n), NAT)
    )
    compulsory = np.where(insurance == NAT, NAT, compulsory)

    # DIRT: delivery date as text (~2%), a few blank; registration as text (~1%)
    dlv_text = np.full(n, "", dtype=SD)
    u = rng.random(n)
    style = rng.integers(0, 4, n)
    for i, s in enumerate(["slash", "dot", "compact", "zh"]):
        sel = (u < 0.02) & (style == i)
        dlv_text[sel] = date_text(dlv[sel], s)
    dlv_cell = np.where((u >= 0.02) & (u < 0.0025 + 0.02), NAT, dlv)
    reg_text = np.full(n, "", dtype=SD)
    sel = has_reg & (rng.random(n) < 0.01)
    reg_text[sel] = date_text(reg[sel], "slash")
    plate = np.where(rng.random(n) < 0.003, "", f.plate[idx])  # DIRT: plate missing
    cid = f.customers["客户编号"][f.owner[idx]]
    cid = np.where(rng.random(n) < 0.001, "", cid)  # DIRT: no customer id
    use = np.where(op, "营运", "非营运").astype(SD)
    use = np.where(rng.random(n) < 0.01, "", use)  # DIRT: unknown use
    model_names = sd([mm for spec in BRANDS.values() for mm, _ in spec[3]])
    cols = [
        Col("str", f.vin[idx]),
        Col("str", plate.astype(SD)),
        Col("str", cid),
        Col("str", sd(list(BRANDS))[f.brand[idx]]),
        Col("str", model_names[f.model[idx]]),
        Col("date", dlv_cell, dlv_text),
        Col("date", reg, reg_text),
        Col("date", insp),
        Col("date", warranty),
        Col("date", insurance),
        Col("date", compulsory),
        Col("str", use),
        Col("str", sd(["正常", "已报废", "已过户", "已转卖"])[f.status[idx]]),
    ]
    return Table("vehicles", VEHICLE_HEADERS, cols)


def customer_table(f: Fleet) -> Table:
    c = f.customers
    birthday, bday_text = c["生日"]
    cols = []
    for h in CUSTOMER_HEADERS:
        cols.append(Col("date", birthday, bday_text) if h == "生日" else Col("str", c[h]))
    return Table("customers", CUSTOMER_HEADERS, cols)


# ------------------------------------------------------------------------------- writers
def csv_quote(col: np.ndarray) -> np.ndarray:
    need = (np.strings.find(col, ",") >= 0) | (np.strings.find(col, '"') >= 0)
    if need.any():
        col = col.copy()
        col[need] = cat('"', np.strings.replace(col[need], '"', '""'), '"')
    return col


def write_csv(
    path: Path,
    table: Table,
    *,
    encoding: str = "utf-8",
    titles=(),
    totals=None,
    newline: str = "\n",
) -> None:
    with open(path, "wb") as fh:
        head = [*titles, ",".join(table.headers)]
        fh.write((newline.join(head) + newline).encode(encoding))
        for start in range(0, len(table), CHUNK):  # a loop per chunk
            part = table.take(slice(start, start + CHUNK))
            cols = [csv_quote(c.csv()).tolist() for c in part.cols]
            text = newline.join(map(",".join, zip(*cols))) + newline
            fh.write(text.encode(encoding))
        if totals is not None:
            fh.write((",".join(totals) + newline).encode(encoding))


EXCEL_MAX_ROWS = 1_048_576


def write_xlsx(path: Path, table: Table, *, sheet: str, titles=(), first_col: int = 1) -> None:
    """openpyxl in write-only mode. A table longer than Excel's 1,048,576 rows continues
    on further sheets (`工单_2`, …), each with the title rows and the header again."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    pad = [None] * (first_col - 1)
    per_sheet = EXCEL_MAX_ROWS - len(titles) - 1
    n_sheets = max(1, -(-len(table) // per_sheet))
    for k in range(n_sheets):  # a loop per sheet
        ws = wb.create_sheet(sheet if k == 0 else f"{sheet}_{k + 1}")
        for t in titles:
            ws.append([t])
        ws.append(pad + table.headers)
        end = min(len(table), (k + 1) * per_sheet)
        for start in range(k * per_sheet, end, CHUNK):  # a loop per chunk
            part = table.take(slice(start, min(start + CHUNK, end)))
            cols = [c.xlsx() for c in part.cols]
            if pad:
                cols = [[None] * len(part)] * len(pad) + cols
            for row in zip(*cols):  # openpyxl: per row
                ws.append(row)
    wb.save(path)


def write_parquet(path: Path, table: Table) -> None:
    import pandas as pd

    df = pd.DataFrame({h: c.parquet() for h, c in zip(table.headers, table.cols)})
    df.to_parquet(path, engine="pyarrow", index=False)


def have_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


# ------------------------------------------------------------------------------- layouts
def layout_store(out: Path, f: Fleet, r: ROs, vt: Table, ct: Table, jobs: int) -> list[dict]:
    """A store's DMS exports: xlsx workbooks + an old GBK CSV of ROs."""
    recent = np.flatnonzero(r.open_s >= RECENT_START * 86400)
    old = np.flatnonzero(r.open_s <= OLD_CUTOFF)
    old_t = ro_table(f, r.take(old), OLD_CUTOFF, "csv")
    new_t = ro_table(f, r.take(recent), EXPORT_CUTOFF, "xlsx")
    settled_cents = old_t.cols[7].values[~old_t.cols[7].missing]
    total = int(settled_cents.sum())
    totals = ["合计"] + [""] * 6 + [f"{total // 100}.{total % 100:02d}"] + [""] * 7
    export_line = f"导出时间: {np.datetime64(EXPORT_DAY, 'D')}"
    tasks = [
        ("xlsx", out / "维修工单_recent.xlsx", new_t, dict(sheet="工单"), len(new_t)),
        (
            "csv",
            out / "维修工单_old.csv",
            old_t,
            dict(
                encoding="gbk",
                titles=["维修工单明细表", f"导出时间: {np.datetime64(OLD_EXPORT, 'D')}"],
                totals=totals,
                newline="\r\n",
            ),
            len(old_t),
        ),
        (
            "xlsx",
            out / "车辆档案.xlsx",
            vt,
            dict(sheet="车辆档案", titles=["车辆档案导出", export_line], first_col=2),
            len(vt),
        ),
        ("xlsx", out / "客户档案.xlsx", ct, dict(sheet="客户档案"), len(ct)),
    ]
    run_tasks(tasks, jobs)
    return [
        dict(file="车辆档案.xlsx", table="vehicles", kind="xlsx", header_line=2, rows=len(vt)),
        dict(file="客户档案.xlsx", table="customers", kind="xlsx", header_line=0, rows=len(ct)),
        dict(
            file="维修工单_recent.xlsx",
            table="repair_orders",
            kind="xlsx",
            header_line=0,
            rows=len(new_t),
        ),
        dict(
            file="维修工单_old.csv",
            table="repair_orders",
            kind="csv",
            encoding="gbk",
            header_line=2,
            rows=len(old_t),
            note="plus a 合计 totals row",
        ),
    ]


def split_parts(f: Fleet, r: ROs, vt: Table, ct: Table):
    """(file stem, table, rows, builder) of the csv/parquet layout; tables are built
    only when written, so a group-size run holds one file's strings at a time."""
    parts = []
    for stem, t in (("车辆档案", vt), ("客户档案", ct)):
        k = max(1, -(-len(t) // PART_ROWS))
        for i in range(k):
            name = stem if k == 1 else f"{stem}_{i + 1}"
            rows = min(len(t), (i + 1) * PART_ROWS) - i * PART_ROWS
            parts.append(
                (
                    name,
                    t.name,
                    rows,
                    lambda t=t, i=i: t.take(slice(i * PART_ROWS, (i + 1) * PART_ROWS)),
                )
            )
    years = r.open_s.astype("M8[s]").astype("M8[Y]").astype(np.int64) + 1970
    for y in np.unique(years):  # a loop per year
        sel = np.flatnonzero(years == y)
        if len(sel) > YEAR_FILE_MAX:
            half = r.open_s[sel] >= day(f"{y}-07-01") * 86400
            chunks = [(f"维修工单_{y}H1", sel[~half]), (f"维修工单_{y}H2", sel[half])]
        else:
            chunks = [(f"维修工单_{y}", sel)]
        for name, s in chunks:
            parts.append(
                (
                    name,
                    "repair_orders",
                    len(s),
                    lambda s=s: ro_table(f, r.take(s), EXPORT_CUTOFF, "csv"),
                )
            )
    return parts


def layout_flat(
    out: Path, fmt: str, f: Fleet, r: ROs, vt: Table, ct: Table, jobs: int
) -> list[dict]:
    files = []
    tasks = []
    for stem, table, rows, build in split_parts(f, r, vt, ct):
        name = f"{stem}.{fmt}"
        tasks.append((fmt, out / name, build, {}, rows))
        files.append(
            dict(
                file=name,
                table=table,
                kind=fmt,
                encoding="utf-8" if fmt == "csv" else None,
                header_line=0,
                rows=rows,
            )
        )
    run_tasks(tasks, jobs)
    return files


_TASKS: list = []


def _run_task(i: int) -> None:
    kind, path, table, kw, _ = _TASKS[i]
    if callable(table):
        table = table()
    {"xlsx": write_xlsx, "csv": write_csv, "parquet": write_parquet}[kind](path, table, **kw)


def run_tasks(tasks: list, jobs: int) -> None:
    """Write files: (kind, path, table or a function building it, options, rows), in
    `jobs` forked processes when more than one (the data is inherited, not pickled).
    The biggest first, so that the slowest does not come last."""
    global _TASKS
    _TASKS = tasks
    order = sorted(
        range(len(tasks)), key=lambda i: -tasks[i][4] * (4 if tasks[i][0] == "xlsx" else 1)
    )
    try:
        if jobs <= 1 or len(tasks) == 1:
            for i in order:
                _run_task(i)
            return
        import multiprocessing as mp

        with mp.get_context("fork").Pool(jobs) as pool:
            for _ in pool.imap_unordered(_run_task, order):
                pass
    finally:
        _TASKS = []


# ---------------------------------------------------------------------------------- main
def parse_size(size: str) -> tuple[int, int]:
    if size in SIZES:
        return SIZES[size]
    try:
        n = int(size.replace("_", "").replace(",", ""))
    except ValueError:
        raise SystemExit(f"--size must be store, group or a number of ROs, not {size!r}") from None
    if n < 700:
        raise SystemExit("--size N needs N >= 700 ROs")
    return max(100, n // 7), n


def default_formats(size: str) -> list[str]:
    return ["csv"] if size == "group" else ["xlsx"]


def generator_version() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def generate(
    size: str, seed: int, out: Path, formats: list[str], jobs: int = 2, quiet: bool = False
) -> dict:
    t0 = time.perf_counter()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    n_v, n_ro = parse_size(size)
    bad = [x for x in formats if x not in ("xlsx", "csv", "parquet")]
    if bad:
        raise SystemExit(f"unknown format(s): {', '.join(bad)} (xlsx, csv, parquet)")
    nested = len(formats) > 1  # one folder per requested format
    if "parquet" in formats and not have_pyarrow():
        say("parquet: skipped (pyarrow is not importable)")
        formats = [x for x in formats if x != "parquet"]
    rng = np.random.default_rng(seed)
    fleet = make_fleet(rng, n_v)
    t1 = time.perf_counter()
    ros = make_ros(rng, fleet, n_ro)
    t2 = time.perf_counter()
    vt = vehicle_table(rng, fleet)
    ct = customer_table(fleet)
    say(
        f"simulated {fleet.n:,} vehicles, {fleet.n_customers:,} customers, {len(ros):,} ROs "
        f"(fleet {t1 - t0:.1f} s, ROs {t2 - t1:.1f} s)"
    )
    mix = np.bincount(ros.cat, minlength=len(CATEGORIES)) / len(ros)
    say(
        "RO mix: "
        + ", ".join(f"{c} {m:.1%}" for c, m in zip(CATEGORIES, mix))
        + f"; maintenance visits kept {STATS.get('maintenance_thinned_to', 1):.0%} of the simulated"
    )
    result = {}
    for fmt in formats:
        ft = time.perf_counter()
        folder = out / fmt if nested else out
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            files = layout_store(folder, fleet, ros, vt, ct, jobs)
        else:
            files = layout_flat(folder, fmt, fleet, ros, vt, ct, jobs)
        for fd in files:
            fd["bytes"] = (folder / fd["file"]).stat().st_size
        secs = time.perf_counter() - ft + (t2 - t0 if fmt == formats[0] else 0)
        manifest = dict(
            generator="bench/generate.py",
            version=generator_version(),
            size=size,
            seed=seed,
            format=fmt,
            vehicles=int(fleet.in_file.sum()),
            customers=fleet.n_customers,
            ros=len(ros),
            input_rows=sum(fd["rows"] for fd in files),
            files=files,
            seconds=round(secs, 2),
        )
        (folder / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        mb = sum(fd["bytes"] for fd in files) / 1e6
        took = time.perf_counter() - ft
        say(f"{fmt}: {len(files)} files, {mb:,.1f} MB -> {folder} ({took:.1f} s)")
        result[fmt] = manifest
    say(f"done in {time.perf_counter() - t0:.1f} s")
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument(
        "--size", default="store", help="store | group | a number of ROs (vehicles = N/7)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--formats",
        default=None,
        help="comma-separated: xlsx (store layout), csv, parquet (default: xlsx; group: csv)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes writing files in parallel (default: up to 2)",
    )
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    formats = a.formats.split(",") if a.formats else default_formats(a.size)
    generate(a.size, a.seed, a.out, [x.strip() for x in formats if x.strip()], a.jobs, a.quiet)


if __name__ == "__main__":
    sys.exit(main())
