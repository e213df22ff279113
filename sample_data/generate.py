#!/usr/bin/env python3
"""Write the synthetic DMS exports in sample_data/ (all people, numbers and VINs are made up).

    python sample_data/generate.py [--out DIR]

The data mimics what the after-sales customer-care desk (客服部) of a 4S dealership
exports from its DMS on 2026-11-20: a vehicle file, a customer file and repair orders
split over an old GBK CSV export and a newer xlsx export that overlap by three months.
Each vehicle's life is simulated (mileage rate, first service, maintenance rhythm,
repairs, bodyshop, warranty, recalls, washes, churn), then dirt is injected on purpose;
every injection point is marked with a `DIRT:` comment.

Last, the October 2026 contact logs are made with aftercare itself (imported from this
repo: `due --month 2026-10 --as-of 2026-09-30` on the files just written, with the demo's
config) and filled in the way the two agents would have by the export date.

Deterministic: one `random.Random(SEED)` and one `numpy.random.default_rng(SEED)` drawn
in a fixed order (the logs: their own `random.Random`), no set iteration, no clock. CSV
bytes are identical run after run; xlsx files are re-zipped with fixed timestamps so they
are byte-identical too. The exports need only stdlib, numpy and openpyxl; the logs need
aftercare's own dependencies.
"""
from __future__ import annotations

import argparse
import calendar
import csv
import io
import math
import random
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import openpyxl
from openpyxl.utils import get_column_letter

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------
SEED = 20261120
EXPORT_DATE = date(2026, 11, 20)                      # the newest export; nothing happens after it
EXPORT_CUTOFF = datetime(2026, 11, 20, 17, 30)        # time of day the newest export was taken
RO_START = date(2021, 11, 20)                         # earliest RO kept by the DMS exports
CSV_EXPORT_DATE = date(2024, 12, 31)                  # the old CSV export (ROs opened up to then)
CSV_CUTOFF = datetime(2024, 12, 31, 17, 30)
XLSX_RO_START = date(2024, 10, 1)                     # the new xlsx export starts here (overlap Oct-Dec 2024)
TIMES_SINCE = date(2024, 11, 20)                      # promised/actual hand-back times recorded from here

VEHICLE_FILE = "车辆档案.xlsx"
CUSTOMER_FILE = "客户档案.xlsx"
RO_CSV_FILE = "维修工单_2021-2024.csv"
RO_XLSX_FILE = "维修工单_2024-2026.xlsx"

VEHICLE_HEADERS = ["VIN", "车牌号", "客户编号", "品牌", "车型", "交车日期", "初次登记日期", "年审到期日",
                   "保修截止日期", "保险到期日", "交强险到期日", "使用性质", "车辆状态"]
CUSTOMER_HEADERS = ["客户编号", "客户名称", "手机号码", "联系电话", "性别", "生日", "身份证号", "客户类型",
                    "地址", "免打扰"]
RO_HEADERS = ["工单号", "车牌号", "VIN", "进厂日期", "结算日期", "进厂里程", "维修类型", "结算金额", "是否预约",
              "服务顾问", "工单状态", "预计交车时间", "实际交车时间", "建议维修项目", "建议维修日期"]

N_PERSONS = 1700              # private customers with at least one car
N_PERSONS_NO_CAR = 30         # customers whose car is not (or no longer) in the vehicle file
N_SMALL_ORGS = 62             # companies owning 1-3 cars
TAXI_FLEETS = [("深圳市鹏运出租汽车有限公司", 18), ("深圳市安达出租车有限公司", 15), ("深圳市华程汽车运输有限公司", 12)]
N_RIDE_HAILING = 8            # private owners of a 营运 (ride-hailing) car
N_OLD_VEHICLE_SHARE = 0.12    # delivered 2018-06 .. 2021-11, before the RO window

ADVISORS = ["张伟", "李娜", "王磊", "刘洋", "陈静"]

# brand -> share, VIN WMIs, models (name, weight), warranty end written in the vehicle file?
BRANDS = {
    "丰田": {"share": 0.13, "wmi": ["LFM"], "warranty_in_file": True,
               "models": [("卡罗拉", 5), ("亚洲龙", 2), ("RAV4荣放", 3), ("皇冠陆放", 1), ("威驰", 1)]},
    "广汽丰田": {"share": 0.16, "wmi": ["LVG"], "warranty_in_file": True,
                 "models": [("凯美瑞", 4), ("汉兰达", 2), ("雷凌", 3), ("威兰达", 2), ("赛那", 1), ("致炫", 1)]},
    "本田": {"share": 0.16, "wmi": ["LHG", "LVH"], "warranty_in_file": True,
               "models": [("雅阁", 4), ("思域", 3), ("CR-V", 3), ("缤智", 2), ("飞度", 1), ("皓影", 2)]},
    "大众": {"share": 0.18, "wmi": ["LSV", "LFV"], "warranty_in_file": True,
               "models": [("朗逸", 5), ("速腾", 3), ("迈腾", 2), ("帕萨特", 2), ("途观L", 2), ("宝来", 2), ("ID.4 CROZZ", 1)]},
    "别克": {"share": 0.10, "wmi": ["LSG"], "warranty_in_file": False,
               "models": [("英朗", 4), ("君威", 2), ("君越", 1), ("昂科威", 2), ("GL8", 2)]},
    "比亚迪": {"share": 0.15, "wmi": ["LGX"], "warranty_in_file": False,
                "models": [("秦PLUS DM-i", 4), ("宋PLUS DM-i", 3), ("汉EV", 2), ("元PLUS", 2), ("海豚", 2), ("唐DM-i", 1)]},
    "日产": {"share": 0.10, "wmi": ["LGB"], "warranty_in_file": True,
               "models": [("轩逸", 5), ("天籁", 2), ("奇骏", 2), ("逍客", 2)]},
    # a few cars of other makes (bought elsewhere, serviced here)
    "吉利": {"share": 0.012, "wmi": ["L6T"], "warranty_in_file": False, "models": [("星越L", 1), ("帝豪", 1)]},
    "长安": {"share": 0.008, "wmi": ["LS5"], "warranty_in_file": False, "models": [("CS75 PLUS", 1)]},
}
NEV_MODELS = {"汉EV", "海豚", "元PLUS", "ID.4 CROZZ", "秦PLUS DM-i", "宋PLUS DM-i", "唐DM-i"}   # green plates
FLEET_MODELS = [[("比亚迪", "秦PLUS DM-i")], [("丰田", "卡罗拉"), ("日产", "轩逸")], [("大众", "朗逸")]]   # per taxi fleet

# home region -> address prefix, plate prefix, districts, share
REGIONS = [
    ("广东省深圳市", "粤B", ["南山区", "福田区", "罗湖区", "宝安区", "龙岗区", "龙华区", "光明区", "坪山区"], 0.835),
    ("广东省广州市", "粤A", ["天河区", "越秀区", "海珠区", "番禺区", "白云区"], 0.04),
    ("广东省东莞市", "粤S", ["南城街道", "东城街道", "长安镇"], 0.025),
    ("广东省惠州市", "粤L", ["惠城区", "惠阳区"], 0.02),
    ("湖南省长沙市", "湘A", ["岳麓区", "芙蓉区", "雨花区"], 0.02),
    ("湖南省郴州市", "湘L", ["北湖区", "苏仙区"], 0.01),
    ("江西省赣州市", "赣B", ["章贡区", "南康区"], 0.025),
    ("广西壮族自治区南宁市", "桂A", ["青秀区", "西乡塘区"], 0.01),
    ("四川省成都市", "川A", ["武侯区", "锦江区"], 0.015),
]
ROADS = ["深南大道", "南海大道", "科技园路", "北环大道", "宝安大道", "龙岗大道", "布吉路", "民治大道", "梅林路",
         "红荔路", "沙河西路", "创业路", "新湖路", "建设路", "人民路", "解放路", "中山路", "东风路", "五一大道"]
ESTATES = ["花园", "小区", "新村", "公寓", "苑", "家园", "华庭", "名苑"]
# birthplace area codes for ID numbers (6-digit, realistic format; the people are made up)
ID_AREAS = ["440305", "440304", "440306", "440307", "445202", "441481", "440582", "441223", "440923", "430481",
            "431022", "430104", "360732", "360702", "450821", "510129", "420111", "412721", "441302", "441900"]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
            "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
            "武戴莫孔向汤温古赖钟柯庄卓")
DOUBLE_SURNAMES = ["欧阳", "司徒", "上官", "诸葛"]
GIVEN_MALE = "伟强磊军勇杰涛斌明超刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋峰志坚建国文博晨阳子轩浩然俊杰家豪锦"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英婷雪梅琳颖慧莉倩洁欣怡佳丹萍红燕雯晶蕾璐瑶琪思涵梓彤雨萱嘉"
ORG_WORDS = ["华信", "鹏达", "宏远", "恒通", "安捷", "金盛", "新航", "中联", "嘉利", "瑞丰", "汇通", "正泰", "佳美",
             "天诚", "卓越", "海纳", "博创", "盛达", "永隆", "联发", "长荣", "和顺", "兴业", "东方"]
ORG_TRADES = ["物流", "贸易", "电子科技", "建筑工程", "餐饮管理", "装饰工程", "信息技术", "实业", "投资发展", "医疗器械"]

# RO raw service types per category (weights)
KIND_NAMES = {
    "first_service": [("首保", 7), ("首次保养", 3)],
    "maintenance": [("定保", 40), ("定期保养", 20), ("保养", 15), ("小保养", 25)],   # 大保养 by mileage
    "repair": [("一般维修", 5), ("机修", 3), ("快修", 2)],
    "bodyshop": [("钣喷", 6), ("事故车", 4)],
    "warranty": [("保修", 6), ("索赔", 4)],
    "campaign": [("召回", 1)],
    "internal": [("PDI", 6), ("新车整备", 4)],
    "wash": [("洗车", 6), ("美容", 4)],
    "unknown": [("空调清洗套餐", 5), ("轮胎更换", 5)],        # not in the built-in alias table
}
DECLINED_ITEMS = ["刹车片更换", "轮胎更换", "更换蓄电池", "更换雨刮片", "四轮定位", "更换刹车油", "空调滤芯更换",
                  "节气门清洗", "更换火花塞"]
# recalls: (brand, models, delivered from, delivered to, campaign start)
CAMPAIGNS = [
    ("本田", {"CR-V", "思域", "皓影"}, date(2021, 6, 1), date(2023, 6, 30), date(2023, 9, 1)),
    ("大众", {"朗逸", "速腾"}, date(2022, 1, 1), date(2024, 3, 31), date(2024, 6, 15)),
    ("丰田", {"卡罗拉"}, date(2022, 6, 1), date(2024, 12, 31), date(2025, 8, 1)),
    ("广汽丰田", {"雷凌"}, date(2022, 6, 1), date(2024, 12, 31), date(2025, 8, 1)),
    ("日产", {"轩逸"}, date(2023, 1, 1), date(2025, 6, 30), date(2026, 3, 10)),
]
# 除夕 of each year: the workshop and showroom close 除夕 .. 初三
CHUXI = [date(2019, 2, 4), date(2020, 1, 24), date(2021, 2, 11), date(2022, 1, 31), date(2023, 1, 21),
         date(2024, 2, 9), date(2025, 1, 28), date(2026, 2, 16)]

VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"          # no I, O, Q
VIN_TRANSLIT = {**{str(d): d for d in range(10)},
                **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9,
                **dict(zip("STUVWXYZ", range(2, 10)))}
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
VIN_YEAR = {2018: "J", 2019: "K", 2020: "L", 2021: "M", 2022: "N", 2023: "P", 2024: "R", 2025: "S", 2026: "T", 2027: "V"}
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"                  # no I, O
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "147", "150", "151", "152",
                   "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185",
                   "186", "187", "188", "189", "191", "198", "199"]
LANDLINE_AREAS = {"粤B": "0755", "粤A": "020", "粤S": "0769", "粤L": "0752", "湘A": "0731", "湘L": "0735",
                  "赣B": "0797", "桂A": "0771", "川A": "028"}

rnd = random.Random(SEED)
rng = np.random.default_rng(SEED)


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def wchoice(pairs):
    """Weighted choice from [(value, weight), ...]."""
    values, weights = zip(*pairs)
    return rnd.choices(values, weights=weights)[0]


def rand_date(start: date, end: date) -> date:
    return start + timedelta(days=rnd.randint(0, (end - start).days))


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def shop_closed(d: date) -> bool:
    """Spring Festival: closed from 除夕 to 初三."""
    return any(0 <= (d - c).days <= 3 for c in CHUXI)


def open_day(d: date) -> date:
    while shop_closed(d):
        d += timedelta(days=1)
    return d


def vin_check_digit(vin17: str) -> str:
    total = sum(VIN_TRANSLIT[c] * w for c, w in zip(vin17, VIN_WEIGHTS))
    r = total % 11
    return "X" if r == 10 else str(r)


def make_vin(wmi: str, year: int, serial: int) -> str:
    vds = "".join(rnd.choice(VIN_CHARS) for _ in range(5))
    plant = rnd.choice("0123456789ABCDEFGHJ")
    body = wmi + vds + "0" + VIN_YEAR[year] + plant + f"{serial:06d}"
    return body[:8] + vin_check_digit(body) + body[9:]


def id_check_char(id17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(id17, weights)) % 11]


def text_date(d: date, style: str) -> str:
    """The text date formats seen in DMS exports."""
    return {
        "slash": f"{d.year}/{d.month}/{d.day}",
        "dot": f"{d:%Y.%m.%d}",
        "compact": f"{d:%Y%m%d}",
        "zh": f"{d.year}年{d.month}月{d.day}日",
        "iso": f"{d:%Y-%m-%d}",
    }[style]


# ---------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------
@dataclass
class Customer:
    name: str
    kind: str                        # 个人 / 单位 (as exported)
    region: int                      # index in REGIONS
    birthday: date | None = None
    gender: str = ""
    id_number: str = ""
    mobile_cell: str = ""
    phone_cell: str = ""
    birthday_cell: object = None
    address: str = ""
    dnd: str = ""
    customer_id: str = ""
    vehicles: list = field(default_factory=list)
    advisor: str = ""


@dataclass
class Vehicle:
    customer: Customer | None
    brand: str
    model: str
    delivery: date                   # true delivery date (the simulation's)
    use_class: str = "非营运"
    vin: str = ""                    # as the DMS holds it (maybe a wrong check digit, maybe blank)
    plate: str = ""                  # the plate the car carries
    plate_in_file: str = ""          # what the vehicle file says
    registration: date | None = None
    status: str = "正常"
    status_date: date | None = None
    daily_km: float = 40.0
    profile: str = "loyal"
    p_show: float = 0.9
    periods: list = field(default_factory=list)   # [(from, to)] when the customer comes to this shop
    in_file: bool = True             # False: a car that appears only in ROs
    walk_in_from: date | None = None
    km_cum: np.ndarray | None = None
    odo_at_delivery: int = 10

    def km(self, d: date) -> int:
        i = min(max((d - self.delivery).days, 0), len(self.km_cum) - 1)
        return round(self.km_cum[i]) + self.odo_at_delivery


@dataclass
class RO:
    vehicle: Vehicle | None
    category: str
    kind_raw: str
    open_dt: datetime
    km: int | None
    amount: float | None
    plate: str = ""
    vin: str = ""
    appointment: bool = False
    advisor: str = ""
    status: str = "已结算"
    close_dt: datetime | None = None
    promised: datetime | None = None
    delivered: datetime | None = None
    declined: str = ""
    declined_date: date | None = None
    ro_no: str = ""
    km_cell: object = None           # what the mileage cell says (dirt applied)
    csv_date_style: str = "iso"
    xlsx_date_style: str = ""        # "" = real datetime, else a text style
    amount_xlsx: float | None = None  # newer export's amount when it differs
    blank_close: bool = False


# ---------------------------------------------------------------------------
# Customers (客户档案)
# ---------------------------------------------------------------------------
def person_name(gender: str) -> str:
    surname = rnd.choice(DOUBLE_SURNAMES) if rnd.random() < 0.01 else rnd.choice(SURNAMES)
    pool = GIVEN_MALE if gender == "男" else GIVEN_FEMALE
    n = 1 if rnd.random() < 0.3 else 2
    return surname + "".join(rnd.choice(pool) for _ in range(n))


def new_mobile(used: set) -> str:
    while True:
        m = rnd.choice(MOBILE_PREFIXES) + f"{rnd.randint(0, 99999999):08d}"
        if m not in used:
            used.add(m)
            return m


def landline(region: int) -> str:
    area = LANDLINE_AREAS[REGIONS[region][1]]
    digits = 8 if area in ("0755", "020", "028") else 7
    return f"{area}-{rnd.randint(2, 8)}{rnd.randint(0, 10 ** (digits - 1) - 1):0{digits - 1}d}"


def address_for(region: int) -> str:
    prefix, _, districts, _ = REGIONS[region]
    return (f"{prefix}{rnd.choice(districts)}{rnd.choice(ROADS)}{rnd.randint(1, 3999)}号"
            f"{rnd.choice(ORG_WORDS)}{rnd.choice(ESTATES)}{rnd.randint(1, 30)}栋{rnd.randint(1, 33)}{rnd.randint(1, 8):02d}")


def pick_region() -> int:
    return rnd.choices(range(len(REGIONS)), weights=[r[3] for r in REGIONS])[0]


def make_person(used_mobiles: set) -> Customer:
    gender = "男" if rnd.random() < 0.62 else "女"
    age = int(min(max(rng.normal(39, 10), 22), 75))
    born = rand_date(date(2026 - age - 1, 11, 21), date(2026 - age, 11, 20))
    c = Customer(name=person_name(gender), kind="个人", region=pick_region(), birthday=born, gender=gender)
    seq = rnd.randint(0, 99) * 10 + (rnd.choice([1, 3, 5, 7, 9]) if gender == "男" else rnd.choice([0, 2, 4, 6, 8]))
    id17 = rnd.choice(ID_AREAS) + f"{born:%Y%m%d}" + f"{seq:03d}"
    c.id_number = id17 + id_check_char(id17)

    # Birthday column given for ~60%; the rest must come from the ID number.
    # DIRT: a third of the given birthdays are text in mixed formats.
    has_birthday = rnd.random() < 0.60
    if has_birthday:
        c.birthday_cell = born if rnd.random() < 0.65 else text_date(born, rnd.choice(["slash", "dot", "compact", "zh", "iso"]))
    # ID number: usually present when there is no birthday column value
    if rnd.random() > (0.70 if has_birthday else 0.93):
        c.id_number = ""
    if rnd.random() < 0.04:
        c.gender = ""                                             # DIRT: gender not filled

    mobile = new_mobile(used_mobiles)
    # DIRT: phone cells in every shape the contract lists
    u = rnd.random()
    if u < 0.03:
        c.mobile_cell = mobile[:3] + "****" + mobile[7:]          # masked by an earlier export
    elif u < 0.06:
        c.mobile_cell = "+86 " + (mobile if rnd.random() < 0.5 else f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}")
    elif u < 0.09:
        c.mobile_cell = f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    elif u < 0.105:
        c.mobile_cell = f"{mobile}/{landline(c.region)}"         # two numbers in one cell
    elif u < 0.12:
        c.mobile_cell = landline(c.region)                       # landline only, in the mobile column
    elif u < 0.13:
        c.mobile_cell, c.phone_cell = "", landline(c.region)     # landline only, in the phone column
    elif u < 0.14:
        c.mobile_cell = ""                                       # no number at all
    elif u < 0.145:
        c.mobile_cell = rnd.choice(["12345", mobile[:10], "00000000000"])   # invalid
    else:
        c.mobile_cell = mobile
    if not c.phone_cell and rnd.random() < 0.12:
        c.phone_cell = landline(c.region) if rnd.random() < 0.6 else new_mobile(used_mobiles)
    c.address = address_for(c.region) if rnd.random() < 0.88 else ""
    return c


def make_org(name: str, used_mobiles: set, kind: str = "单位") -> Customer:
    c = Customer(name=name, kind=kind, region=0)
    c.mobile_cell = new_mobile(used_mobiles)
    c.phone_cell = landline(0) if rnd.random() < 0.7 else ""
    c.address = f"广东省深圳市{rnd.choice(REGIONS[0][2])}{rnd.choice(ROADS)}{rnd.randint(1, 3999)}号{rnd.choice(ORG_WORDS)}大厦{rnd.randint(2, 28)}楼"
    return c


def make_customers() -> tuple[list[Customer], list[Customer]]:
    """Return (all customers, taxi-fleet owners)."""
    used: set = set()
    people = [make_person(used) for _ in range(N_PERSONS + N_PERSONS_NO_CAR)]
    org_names = []
    while len(org_names) < N_SMALL_ORGS:
        w1 = rnd.choice(ORG_WORDS)
        u = rnd.random()
        if u < 0.75:
            name = f"深圳市{w1}{rnd.choice(ORG_TRADES)}有限公司"
        elif u < 0.92:
            name = f"{w1}汽车租赁中心"
        else:
            name = f"深圳市{w1}{rnd.choice(ORG_TRADES)}集团有限公司"
        if name not in org_names:
            org_names.append(name)
    orgs = [make_org(n, used) for n in org_names]
    # a small shop written as 个人: only the name says it is an organisation
    orgs.append(make_org(f"南山区{rnd.choice(ORG_WORDS)}五金店", used, kind="个人"))
    fleets = [make_org(name, used) for name, _ in TAXI_FLEETS]
    # DIRT: test rows
    tests = [Customer(name="测试", kind="个人", region=0, mobile_cell="13800000000"),
             Customer(name="test", kind="个人", region=0, mobile_cell="13900000000")]
    return people + orgs + fleets + tests, fleets


def finalise_customers(customers: list[Customer]) -> None:
    """Number the customers in order of their first purchase, then the DNDs and bad IDs."""
    def first(c):
        return min((v.delivery for v in c.vehicles), default=date(2020, 6, 1) + timedelta(days=rnd.randint(0, 2000)))
    order = sorted(customers, key=lambda c: (first(c), c.name))
    for i, c in enumerate(order, start=1):
        c.customer_id = f"KH{i:06d}"
    for c in customers:
        c.dnd = "是" if rnd.random() < 0.02 else ("否" if rnd.random() < 0.7 else "")
        c.advisor = rnd.choice(ADVISORS)
        if c.id_number and rnd.random() < 0.02:
            # DIRT: bad MOD 11-2 check character
            good = c.id_number[-1]
            c.id_number = c.id_number[:-1] + rnd.choice([x for x in "0123456789X" if x != good])
    # DIRT: three old 15-digit ID numbers (YYMMDD, no check character)
    olds = [c for c in customers if c.kind == "个人" and c.birthday and c.birthday.year < 1975 and c.birthday_cell is None]
    for c in olds[:3]:
        c.id_number = rnd.choice(ID_AREAS) + f"{c.birthday:%y%m%d}" + f"{rnd.randint(100, 999)}"
    # a leap-day birthday, from the ID number only
    leap = [c for c in customers if c.kind == "个人" and c.birthday and c.birthday.year == 1988 and c.vehicles]
    if leap:
        c = leap[0]
        c.birthday = date(1988, 2, 29)
        c.birthday_cell = None
        id17 = ID_AREAS[0] + "19880229" + "123"
        c.id_number, c.gender = id17 + id_check_char(id17), "男"


# ---------------------------------------------------------------------------
# Vehicles (车辆档案)
# ---------------------------------------------------------------------------
def random_delivery() -> date:
    if rnd.random() < N_OLD_VEHICLE_SHARE:
        d = rand_date(date(2018, 6, 1), RO_START - timedelta(days=1))
    else:
        # slightly growing sales: more deliveries in recent years
        span = (EXPORT_DATE - timedelta(days=1) - RO_START).days
        d = RO_START + timedelta(days=int(span * rnd.random() ** 0.92))
        if rnd.random() < 0.25:                                     # month-end sales push
            d = min(month_end(d.year, d.month) - timedelta(days=rnd.randint(0, 3)), EXPORT_DATE - timedelta(days=1))
    return open_day(d)


def make_plate(prefix: str, nev: bool, used: set) -> str:
    while True:
        if nev:
            body = rnd.choice("DF") + f"{rnd.randint(0, 99999):05d}"
        else:
            chars = [rnd.choice("0123456789") for _ in range(5)]
            for pos in rnd.sample(range(5), rnd.choice([0, 1, 1, 2])):
                chars[pos] = rnd.choice(PLATE_LETTERS)
            body = "".join(chars)
        plate = prefix + body
        if plate not in used:
            used.add(plate)
            return plate


def pick_brand_model() -> tuple[str, str]:
    brand = rnd.choices(list(BRANDS), weights=[b["share"] for b in BRANDS.values()])[0]
    return brand, wchoice(BRANDS[brand]["models"])


def make_vehicles(customers: list[Customer], fleets: list[Customer]) -> list[Vehicle]:
    vehicles: list[Vehicle] = []
    fleet_sizes = dict(TAXI_FLEETS)
    people = [c for c in customers if c.kind == "个人" and c.name not in ("测试", "test")]
    for i, c in enumerate(people):
        if i >= N_PERSONS:
            break                                                   # the last ones own no car in the file
        n = 1
        u = rnd.random()
        if "五金店" not in c.name:
            n = 3 if u < 0.01 else (2 if u < 0.08 else 1)
        for _ in range(n):
            vehicles.append(Vehicle(c, *pick_brand_model(), delivery=random_delivery()))
    ride_hailing = [v for v in vehicles if v.brand in ("比亚迪", "丰田", "大众", "日产")][:: 97][:N_RIDE_HAILING]
    for v in ride_hailing:
        v.use_class = "营运"
    for c in customers:
        if c.kind == "单位" and c not in fleets:
            for _ in range(rnd.choice([1, 1, 1, 2, 2, 3])):
                vehicles.append(Vehicle(c, *pick_brand_model(), delivery=random_delivery()))
    for c in fleets:
        batch = [open_day(rand_date(date(2021, 3, 1), date(2025, 12, 20))) for _ in range(3)]
        for k in range(fleet_sizes[c.name]):
            models = FLEET_MODELS[fleets.index(c)]
            brand, model = models[k % len(models)]
            v = Vehicle(c, brand, model, delivery=batch[k % 3] + timedelta(days=k % 2), use_class="营运")
            vehicles.append(v)
    test_customer = next(c for c in customers if c.name == "测试")
    vehicles.append(Vehicle(test_customer, "丰田", "卡罗拉", delivery=date(2026, 9, 18)))

    # guaranteed cases: registrations in December 2020 (6-year on-site inspection due Dec 2026)
    olds = [v for v in vehicles if v.delivery < RO_START and v.use_class == "非营运"]
    for v, d in zip(olds[:3], [date(2020, 12, 3), date(2020, 12, 12), date(2020, 11, 28)]):
        v.delivery = d

    used_plates: set = set()
    serial = 100000
    for v in vehicles:
        c = v.customer
        v.odo_at_delivery = rnd.randint(3, 25)
        if v.use_class == "营运":
            v.daily_km = float(rng.uniform(110, 150))
        else:
            v.daily_km = float(np.clip(rng.lognormal(math.log(40), 0.42), 10, 150))
        model_year = v.delivery.year + (1 if v.delivery.month >= 10 and rnd.random() < 0.4 else 0)
        serial += rnd.randint(1, 900)
        v.vin = make_vin(rnd.choice(BRANDS[v.brand]["wmi"]), min(model_year, 2027), serial)
        prefix = REGIONS[c.region][1] if c else "粤B"
        if rnd.random() < 0.05:
            prefix = "粤B"
        v.registration = v.delivery + timedelta(days=rnd.randint(3, 12))
        if v.registration > EXPORT_DATE:
            v.registration = None                                   # not registered yet: no plate
        else:
            v.plate = make_plate(prefix, v.model in NEV_MODELS and prefix.startswith("粤"), used_plates)
        v.plate_in_file = v.plate
    return vehicles


def inspection_dues(reg: date, operating: bool):
    """Due dates (last day of the due month) of the inspection schedule, oldest first."""
    if operating:
        months = [12 * k for k in range(1, 6)] + [60 + 6 * k for k in range(1, 40)]
    else:
        months = [24, 48, 72, 96, 120] + [120 + 12 * k for k in range(1, 20)]
    for m in months:
        d = add_months(reg, m)
        yield month_end(d.year, d.month)


def assign_profiles(vehicles: list[Vehicle]) -> None:
    """Loyalty, status and the periods when the customer uses this shop."""
    end = EXPORT_DATE
    for v in vehicles:
        u = rnd.random()
        if u < 0.06:
            v.profile, v.p_show = "never", 0.0                      # never back after delivery
        elif u < 0.11:
            v.profile, v.p_show = "no_fs", 0.0                      # services elsewhere, repairs here
        elif u < 0.63:
            v.profile, v.p_show = "loyal", rnd.uniform(0.82, 0.99)
        else:
            v.profile, v.p_show = "stopper", rnd.uniform(0.6, 0.95)
        if v.use_class == "营运":
            v.profile, v.p_show = "loyal", rnd.uniform(0.55, 0.8)
        # status: ~1% scrapped, ~1% sold on / transferred (older cars)
        if v.delivery < date(2024, 6, 1) and v.customer and v.customer.name != "测试":
            s = rnd.random()
            if s < 0.012:
                v.status = "已报废"
            elif s < 0.024:
                v.status = rnd.choice(["已过户", "已转卖"])
            if v.status != "正常":
                v.status_date = rand_date(v.delivery + timedelta(days=400), end - timedelta(days=60))
        stop = v.status_date or end
        if v.profile == "never":
            v.periods = []
        elif v.profile == "stopper":
            quit_ = v.delivery + timedelta(days=int(rnd.uniform(0.3, 4.5) * 365))
            v.periods = [(v.delivery, min(quit_, stop))]
            if quit_ < stop - timedelta(days=300) and rnd.random() < 0.22:   # won back later
                back = quit_ + timedelta(days=rnd.randint(200, 600))
                if back < stop:
                    v.periods.append((back, min(stop, back + timedelta(days=rnd.randint(60, 900)))))
        else:
            v.periods = [(v.delivery, stop)]
        # cumulative odometer per day since delivery (rate varies month to month)
        n = (EXPORT_DATE - v.delivery).days + 2
        mult = np.repeat(rng.lognormal(0.0, 0.2, n // 30 + 1), 30)[:n]
        v.km_cum = np.concatenate([[0.0], np.cumsum(v.daily_km * mult)])[:n]


def vehicle_file_cells(v: Vehicle) -> list:
    """One row of the vehicle file, with its dirt."""
    operating = v.use_class == "营运"
    reg = v.registration
    insp = None
    if reg and rnd.random() < 0.55:
        dues = [d for d in inspection_dues(reg, operating)]
        nxt = next(d for d in dues if d >= EXPORT_DATE)
        insp = nxt
        if rnd.random() < 0.08:
            prev = [d for d in dues if d < EXPORT_DATE]
            insp = prev[-1] if prev else nxt                        # DIRT: stale, already past
    warranty = None
    if BRANDS[v.brand]["warranty_in_file"]:
        warranty = add_months(v.delivery, 36) - timedelta(days=1)
    # insurance: renewed with the dealer -> next anniversary; else the last one known (past)
    insurance = compulsory = None
    u = rnd.random()
    years_owned = max(1, (EXPORT_DATE - v.delivery).days // 365 + 1)
    if u < 0.58:
        k = 1
        while add_months(v.delivery, 12 * k) - timedelta(days=1) < EXPORT_DATE:
            k += 1
        insurance = add_months(v.delivery, 12 * k) - timedelta(days=1)
    elif u < 0.95:
        insurance = add_months(v.delivery, 12 * rnd.randint(1, years_owned)) - timedelta(days=1)
        if insurance >= EXPORT_DATE:
            insurance = add_months(insurance, -12)
    if insurance and insurance < v.delivery:
        insurance = None
    if insurance:
        c = rnd.random()
        compulsory = insurance if c < 0.75 else (insurance + timedelta(days=rnd.randint(-20, 20)) if c < 0.9 else None)

    # DIRT: delivery date as text in mixed formats (~4%)
    delivery_cell: object = v.delivery
    if rnd.random() < 0.04:
        delivery_cell = text_date(v.delivery, rnd.choice(["slash", "dot", "compact", "zh"]))
    reg_cell: object = reg
    if reg and rnd.random() < 0.01:
        reg_cell = text_date(reg, "slash")
    use = v.use_class if rnd.random() > 0.01 else ""             # DIRT: use class unknown
    return [v.vin, v.plate_in_file, v.customer.customer_id if v.customer else "", v.brand, v.model,
            delivery_cell, reg_cell, insp, warranty, insurance, compulsory, use, v.status]


# ---------------------------------------------------------------------------
# Repair orders (维修工单): simulate each vehicle's life
# ---------------------------------------------------------------------------
def in_periods(v: Vehicle, d: date) -> bool:
    return any(a <= d <= b for a, b in v.periods)


def appointment_probability(d: date, category: str) -> float:
    """Appointment share rises from ~32% (2021) to ~45% (late 2026)."""
    t = (d - RO_START).days / (EXPORT_DATE - RO_START).days
    base = 0.30 + 0.16 * t
    factor = {"first_service": 1.2, "maintenance": 1.2, "repair": 0.75, "bodyshop": 0.5, "warranty": 0.9,
              "campaign": 1.1, "wash": 0.4, "unknown": 0.6}.get(category, 1.0)
    return min(base * factor, 0.95)


def open_time(d: date, appointment: bool) -> datetime:
    if appointment:
        slot = rnd.choice([8.5, 9, 9, 9.5, 10, 10, 10.5, 11, 13.5, 14, 14.5, 15, 16])
        minute = int(slot * 60) + rnd.randint(-5, 10)
    else:
        minute = int(rnd.triangular(8 * 60, 17 * 60 + 30, 9.5 * 60))
    return datetime.combine(d, time(minute // 60, minute % 60, rnd.randint(0, 59)))


def amount_for(category: str, kind_raw: str) -> float:
    if category == "first_service":
        a = 0.0 if rnd.random() < 0.65 else rnd.uniform(120, 300)
    elif category == "maintenance":
        a = rnd.uniform(900, 1500) if kind_raw == "大保养" else float(np.clip(rng.lognormal(math.log(620), 0.25), 400, 1500))
    elif category == "repair":
        a = rnd.uniform(150, 800) if kind_raw == "快修" else float(np.clip(rng.lognormal(math.log(900), 0.7), 200, 5000))
    elif category == "bodyshop":
        a = float(np.clip(rng.lognormal(math.log(3500), 0.7), 1000, 15000))
    elif category == "warranty":
        a = 0.0 if rnd.random() < 0.6 else rnd.uniform(200, 3000)
    elif category == "campaign":
        a = 0.0
    elif category == "internal":
        a = 0.0 if rnd.random() < 0.7 else rnd.uniform(80, 300)
    elif category == "wash":
        a = rnd.choice([35, 40, 50, 60]) if kind_raw == "洗车" else rnd.uniform(200, 1200)
    else:
        a = rnd.choice([198, 298]) if kind_raw == "空调清洗套餐" else rnd.uniform(600, 2400)
    return round(a, 0 if a > 100 and rnd.random() < 0.5 else 2)


def make_ro(v: Vehicle, category: str, d: date, kind_raw: str | None = None) -> RO:
    kind_raw = kind_raw or wchoice(KIND_NAMES[category])
    appt = rnd.random() < appointment_probability(d, category)
    ro = RO(vehicle=v, category=category, kind_raw=kind_raw, open_dt=open_time(d, appt), km=v.km(d),
            amount=amount_for(category, kind_raw), appointment=appt)
    ro.advisor = v.customer.advisor if v.customer and rnd.random() < 0.7 else rnd.choice(ADVISORS)
    return ro


def poisson_dates(v: Vehicle, per_year: float, start: date | None = None, end: date | None = None) -> list[date]:
    out = []
    for a, b in v.periods:
        a = max(a, start) if start else a
        b = min(b, end) if end else b
        d = a
        while per_year > 0:
            d = d + timedelta(days=max(1, int(rnd.expovariate(per_year / 365))))
            if d > b:
                break
            out.append(d)
    return out


def simulate_vehicle(v: Vehicle) -> list[RO]:
    ros: list[RO] = []
    age_end = min(EXPORT_DATE, v.status_date or EXPORT_DATE)

    # internal PDI / 新车整备 right at delivery (no plate yet)
    if v.in_file and v.vin and rnd.random() < 0.75:
        d = open_day(v.delivery - timedelta(days=rnd.randint(0, 2)))
        ro = make_ro(v, "internal", d)
        ro.km, ro.appointment = rnd.randint(3, v.odo_at_delivery), False
        ros.append(ro)

    # first service (首保) ~2-4 months after delivery, around 5,000 km
    last_service = v.delivery
    if v.profile in ("loyal", "stopper") and rnd.random() < 0.97:
        days = min(90, 5000 / v.daily_km) * rnd.uniform(0.8, 1.35)
        d = open_day(v.delivery + timedelta(days=int(min(max(days, 40), 125))))
        if in_periods(v, d) and d <= age_end:
            ros.append(make_ro(v, "first_service", d))
            last_service = d

    # maintenance rhythm: every 6 months or 5,000 km, late by a customer-specific factor;
    # a skipped cycle was done elsewhere (or not at all)
    if v.profile in ("loyal", "stopper") and last_service != v.delivery:
        interval = min(182, 5000 / v.daily_km)
        lateness = (0.85, 1.25) if v.profile == "loyal" else (0.9, 1.6)
        d = last_service
        last_big = 0
        while True:
            d = open_day(d + timedelta(days=max(20, int(interval * rnd.uniform(*lateness)))))
            if d > age_end:
                break
            if not in_periods(v, d) or rnd.random() > v.p_show:
                continue
            km = v.km(d)
            kind = None
            if km - last_big >= 30000:
                kind, last_big = "大保养", km
            ros.append(make_ro(v, "maintenance", d, kind))

    # occasional visits while the customer uses this shop
    if v.profile != "never":
        repair_rate = 0.5 if v.profile != "no_fs" else 0.3
        for d in poisson_dates(v, repair_rate):
            age = (d - v.delivery).days / 365
            if rnd.random() < min(1.0, 0.5 + age / 4):             # older cars break more
                ros.append(make_ro(v, "repair", open_day(d)))
        for d in poisson_dates(v, 0.13):
            ros.append(make_ro(v, "bodyshop", open_day(d)))
        for d in poisson_dates(v, 0.22, end=add_months(v.delivery, 36)):
            ros.append(make_ro(v, "warranty", open_day(d)))
        wash_rate = 1.2 if rnd.random() < 0.4 else 0.1
        for d in poisson_dates(v, wash_rate):
            ros.append(make_ro(v, "wash", open_day(d)))
        for d in poisson_dates(v, 0.045):
            ros.append(make_ro(v, "unknown", open_day(d)))
    # recalls (召回): most affected cars come within a few months, even lapsed ones sometimes
    for brand, models, d_from, d_to, start in CAMPAIGNS:
        if v.brand == brand and v.model in models and d_from <= v.delivery <= d_to:
            d = open_day(start + timedelta(days=int(rnd.expovariate(1 / 45))))
            if d <= age_end and rnd.random() < (0.65 if in_periods(v, d) else 0.15):
                ros.append(make_ro(v, "campaign", d))
    # a scrapped car often leaves after a big accident
    if v.status == "已报废" and rnd.random() < 0.6:
        d = open_day(v.status_date - timedelta(days=rnd.randint(5, 40)))
        if d > v.delivery:
            ro = make_ro(v, "bodyshop", d, "事故车")
            ro.amount = round(rnd.uniform(12000, 15000), 2)
            ros.append(ro)
    return ros


def simulate_walk_in(v: Vehicle) -> list[RO]:
    """A car bought elsewhere: appears only in ROs."""
    ros = []
    d = v.walk_in_from
    while d <= EXPORT_DATE:
        ros.append(make_ro(v, "maintenance" if rnd.random() < 0.7 else "repair", open_day(d)))
        d += timedelta(days=rnd.randint(120, 260))
    return ros


def make_walk_ins(used_plates_from: list[Vehicle]) -> list[Vehicle]:
    used = {v.plate for v in used_plates_from}
    out = []
    for brand, model, prefix, start, with_vin in [("丰田", "凯美瑞", "粤A", date(2023, 3, 4), True),
                                                  ("本田", "雅阁", "粤B", date(2024, 7, 21), True),
                                                  ("大众", "帕萨特", "粤B", date(2025, 5, 9), False),
                                                  ("日产", "天籁", "湘A", date(2022, 8, 15), True)]:
        v = Vehicle(None, brand, model, delivery=start - timedelta(days=rnd.randint(400, 1500)), in_file=False,
                    walk_in_from=start, daily_km=float(rng.uniform(25, 60)))
        v.vin = make_vin(BRANDS[brand]["wmi"][0], v.delivery.year, 900000 + len(out)) if with_vin else ""
        v.plate = make_plate(prefix, False, used)
        v.registration = v.delivery
        v.periods = [(start, EXPORT_DATE)]
        n = (EXPORT_DATE - v.delivery).days + 2
        v.km_cum = np.concatenate([[0.0], np.cumsum(np.full(n, v.daily_km))])[:n]
        out.append(v)
    return out


def finish_ro(ro: RO) -> None:
    """Plate/VIN as the RO shows them, hand-back times, settlement, declined items."""
    v = ro.vehicle
    d = ro.open_dt.date()
    ro.vin = v.vin
    ro.plate = v.plate if (v.registration and d >= v.registration and ro.category != "internal") else ""
    if ro.vin == "" and ro.plate == "":
        ro.plate = v.plate
    # duration until hand-back
    hours = {"first_service": (1.5, 3), "maintenance": (1.5, 4), "repair": (2, 30), "bodyshop": (48, 170),
             "warranty": (3, 50), "campaign": (1, 3), "internal": (2, 6), "wash": (0.5, 2), "unknown": (1, 3)}
    promised = ro.open_dt + timedelta(hours=rnd.uniform(*hours[ro.category]))
    promised = promised.replace(minute=(promised.minute // 30) * 30, second=0, microsecond=0)
    if promised.hour >= 19:
        promised = promised.replace(hour=18, minute=0)
    u = rnd.random()
    if u < 0.85:
        delivered = promised - timedelta(minutes=rnd.randint(0, 90))
    elif u < 0.95:
        delivered = promised + timedelta(minutes=rnd.randint(10, 150))   # late, same day
    else:
        delivered = promised + timedelta(days=rnd.randint(1, 2), minutes=rnd.randint(0, 120))   # held over
    delivered = max(delivered, ro.open_dt + timedelta(minutes=30)).replace(second=0, microsecond=0)
    if ro.category in ("first_service", "maintenance", "wash", "campaign", "unknown", "internal"):
        close = delivered + timedelta(minutes=rnd.randint(0, 20))
        if rnd.random() < 0.08:
            close += timedelta(days=rnd.randint(1, 3))                  # settled a few days later
    else:
        close = delivered + timedelta(minutes=rnd.randint(0, 30))
    if d >= TIMES_SINCE and rnd.random() < 0.92:
        ro.promised, ro.delivered = promised, delivered
    ro.close_dt = close
    # declined items (建议维修项目) on ~5% of ROs, a due date on some of them
    if ro.category in ("first_service", "maintenance", "repair") and rnd.random() < 0.075:
        items = rnd.sample(DECLINED_ITEMS, 2 if rnd.random() < 0.2 else 1)
        ro.declined = "、".join(items)
        if rnd.random() < 0.4:
            ro.declined_date = d + timedelta(days=rnd.choice([30, 60, 90, 120]))


def apply_cutoff(ro: RO, cutoff: datetime) -> dict:
    """What an export taken at `cutoff` says about the RO: unsettled ROs show 在修 (in the workshop) or 未结算 (handed back)."""
    out = {"status": ro.status, "close": ro.close_dt, "delivered": ro.delivered, "promised": ro.promised, "amount": ro.amount}
    if ro.status == "已结算" and ro.close_dt and ro.close_dt > cutoff:
        handed_back = ro.delivered is not None and ro.delivered <= cutoff
        out.update(status="未结算" if handed_back else "在修", close=None, amount=None,
                   delivered=ro.delivered if handed_back else None)
        if ro.promised and ro.promised.date() > cutoff.date():
            out["promised"] = None                                  # nothing dated after the export
    if ro.blank_close:
        out["close"] = None
    return out


def make_repair_orders(vehicles: list[Vehicle], walk_ins: list[Vehicle]) -> list[RO]:
    ros: list[RO] = []
    for v in vehicles:
        ros.extend(simulate_vehicle(v))
    for v in walk_ins:
        ros.extend(simulate_walk_in(v))
    ros = [r for r in ros if RO_START <= r.open_dt.date() and r.open_dt <= EXPORT_CUTOFF]
    for r in ros:
        finish_ro(r)

    # DIRT: voided (作废) duplicates opened a little before the real RO (~1%),
    # and cancelled (已取消) bookings a few days before (~0.3%)
    extra = []
    for r in ros:
        u = rnd.random()
        if u < 0.01:
            x = RO(vehicle=r.vehicle, category=r.category, kind_raw=r.kind_raw, km=r.km, amount=r.amount,
                   open_dt=r.open_dt - timedelta(minutes=rnd.randint(5, 40)), plate=r.plate, vin=r.vin,
                   appointment=r.appointment, advisor=r.advisor, status="作废")
            extra.append(x)
        elif u < 0.013 and r.appointment:
            d = r.open_dt - timedelta(days=rnd.randint(1, 5))
            if d.date() >= RO_START and not shop_closed(d.date()):
                extra.append(RO(vehicle=r.vehicle, category=r.category, kind_raw=r.kind_raw, km=None, amount=0.0,
                                open_dt=d, plate=r.plate, vin=r.vin, appointment=True, advisor=r.advisor,
                                status="已取消"))
    ros.extend(extra)

    # DIRT: two test ROs on plate 测试001
    ros.append(RO(None, "maintenance", "保养", datetime(2025, 3, 12, 10, 5, 0), 1000, 0.01, plate="测试001",
                  advisor=ADVISORS[0], close_dt=datetime(2025, 3, 12, 10, 20, 0)))
    ros.append(RO(None, "repair", "一般维修", datetime(2026, 6, 3, 15, 40, 0), 1234, 0.0, plate="测试001",
                  advisor=ADVISORS[2], close_dt=datetime(2026, 6, 3, 15, 45, 0)))

    # number the ROs: RO + open date + sequence of the day
    ros.sort(key=lambda r: (r.open_dt, r.plate, r.vin, r.kind_raw))
    seq: dict = {}
    for r in ros:
        k = r.open_dt.date()
        seq[k] = seq.get(k, 0) + 1
        r.ro_no = f"RO{k:%Y%m%d}{seq[k]:03d}"
    return ros


def inject_ro_dirt(ros: list[RO]) -> None:
    """Mileage, VIN, date-format, amount and settlement dirt on the ROs."""
    by_vehicle: dict = {}
    for r in ros:
        if r.vehicle is not None and r.status == "已结算":
            by_vehicle.setdefault(id(r.vehicle), []).append(r)
    has_later = {id(r) for lst in by_vehicle.values() for r in lst[:-1]}   # lists are in open order

    negative_done = False
    for r in ros:
        km = r.km
        cell: object = km
        u = rnd.random()
        if km is None:
            cell = None
        elif u < 0.01 and km >= 1000:
            cell = f"{km / 10000:.1f}万"                             # DIRT: 1.2万
        elif u < 0.015:
            cell = f"{km:,}"                                        # DIRT: 12,345
        elif u < 0.02:
            cell = f"{km}km" if rnd.random() < 0.8 else f"{km} 公里"   # DIRT: 12345km
        elif u < 0.023 and id(r) in has_later and km >= 1000:
            s = str(km)                                             # DIRT: high typo (an extra digit)
            p = rnd.randint(1, len(s) - 1)
            cell = int(s[:p] + s[p - 1] + s[p:])
        elif u < 0.026 and km >= 10000:
            if rnd.random() < 0.5:
                s = str(km)                                         # DIRT: low typo (a digit lost)
                p = rnd.randint(1, len(s) - 1)
                cell = int(s[:p] + s[p + 1:])
            else:
                cell = max(0, km - rnd.randint(2000, 8000))        # DIRT: rollback
        elif u < 0.029:
            cell = None                                             # DIRT: blank mileage
        elif not negative_done and r.category == "repair" and r.open_dt.year == 2025 and km > 10000:
            cell, negative_done = -km, True                         # DIRT: one negative mileage
        r.km_cell = cell

        # DIRT: VIN left blank on ~0.5% of ROs of cars that carry a plate
        if r.plate and r.vin and rnd.random() < 0.005:
            r.vin = ""
        # DIRT: CSV dates mostly "2023-05-07 09:12:00", some "2023/5/7", a few "20230507"
        u = rnd.random()
        r.csv_date_style = "slash" if u < 0.06 else ("compact" if u < 0.075 else "iso")
        # DIRT: xlsx dates mostly real datetimes, some text
        u = rnd.random()
        r.xlsx_date_style = "" if u > 0.03 else rnd.choice(["slash_time", "dot", "zh"])
        # DIRT: a few -1.00 amounts, a few settled ROs without a settlement date
        if r.status == "已结算" and rnd.random() < 0.0015:
            r.amount = -1.0
        if r.status == "已结算" and rnd.random() < 0.004:
            r.blank_close = True

    # DIRT: the newer export has a different amount for a few ROs of the overlap (re-settled)
    overlap = [r for r in ros if XLSX_RO_START <= r.open_dt.date() <= date(2024, 12, 20)
               and r.status == "已结算" and r.amount and r.amount > 100]
    for r in rnd.sample(overlap, 8):
        r.amount_xlsx = round(r.amount + rnd.choice([120.0, -50.0, 35.5, 680.0, -200.0, 88.0]), 2)


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------
def save_workbook(wb: openpyxl.Workbook, path: Path) -> None:
    """Save, then re-zip with fixed timestamps so the bytes are the same every run."""
    fixed = datetime.combine(EXPORT_DATE, time(9, 30))
    wb.properties.creator = "DMS"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":                # openpyxl stamps 'modified' with now()
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2026-11-20T09:30:00Z\2", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 20, 9, 30, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data)
    path.write_bytes(out.getvalue())


def style_dates(ws, first_row: int, columns: dict) -> None:
    for row in ws.iter_rows(min_row=first_row):
        for cell in row:
            fmt = columns.get(cell.column)
            if fmt and isinstance(cell.value, (date, datetime)):
                cell.number_format = fmt


def write_vehicles(vehicles: list[Vehicle], path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "车辆档案"
    ws["A1"] = "车辆档案导出"
    ws["A2"] = f"导出时间: {EXPORT_DATE:%Y-%m-%d}"
    for j, h in enumerate(VEHICLE_HEADERS, start=2):                 # header in row 3 from column B
        ws.cell(row=3, column=j, value=h)
    rows = [vehicle_file_cells(v) for v in vehicles]

    # DIRT on specific rows (chosen by position so the script stays deterministic)
    normal = [i for i, v in enumerate(vehicles) if v.status == "正常" and v.customer and v.customer.name != "测试"
              and v.use_class == "非营运" and v.registration and v.delivery >= RO_START]
    picks = rnd.sample(normal, 60)
    for i in picks[:45]:                                            # ~2.5%: wrong VIN check digit
        vin = rows[i][0]
        bad = rnd.choice([c for c in "0123456789X" if c != vin[8]])
        wrong = vin[:8] + bad + vin[9:]
        vehicles[i].vin = wrong                                     # the DMS (and its ROs) hold the wrong VIN
        rows[i][0] = wrong
    for i in picks[45:47]:                                          # blank VIN, plate given
        vehicles[i].vin = ""
        rows[i][0] = ""
    for i in picks[47:50]:                                          # blank delivery date
        rows[i][5] = None
    rows[picks[50]][5] = date(1985, 1, 1)                           # suspect event date
    for i in picks[51:57]:                                          # plate missing from the vehicle file
        rows[i][1] = ""
    for i in picks[57:60]:                                          # blank customer id
        rows[i][2] = ""

    for i, row in enumerate(rows):
        for j, value in enumerate(row, start=2):
            ws.cell(row=4 + i, column=j, value=value)
    style_dates(ws, 4, {c: "yyyy-mm-dd" for c in range(7, 13)})
    for j, w in zip(range(1, 15), [3, 20, 11, 10, 9, 14, 12, 12, 12, 12, 12, 12, 8, 8]):
        ws.column_dimensions[get_column_letter(j)].width = w
    save_workbook(wb, path)


def write_customers(customers: list[Customer], path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户档案"
    ws.append(CUSTOMER_HEADERS)
    for c in sorted(customers, key=lambda c: c.customer_id):
        ws.append([c.customer_id, c.name, c.mobile_cell or None, c.phone_cell or None, c.gender or None,
                   c.birthday_cell, c.id_number or None, c.kind, c.address or None, c.dnd or None])
    style_dates(ws, 2, {6: "yyyy-mm-dd"})
    for j, w in enumerate([10, 26, 26, 16, 5, 12, 20, 8, 50, 7], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    save_workbook(wb, path)


def fmt_csv_dt(dt: datetime | None, style: str) -> str:
    if dt is None:
        return ""
    if style == "iso":
        return f"{dt:%Y-%m-%d %H:%M:%S}"
    return text_date(dt.date(), style)


def ro_values(r: RO, cutoff: datetime, newer: bool) -> dict:
    s = apply_cutoff(r, cutoff)
    amount = r.amount_xlsx if newer and r.amount_xlsx is not None else s["amount"]
    if r.status in ("作废", "已取消"):
        s["close"] = None
    return dict(s, amount=amount)


def write_ro_csv(ros: list[RO], path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["维修工单明细表"])
    w.writerow([f"导出时间: {CSV_EXPORT_DATE:%Y-%m-%d}"])
    w.writerow(RO_HEADERS)
    total = 0.0
    for r in ros:
        if not (r.open_dt <= CSV_CUTOFF):
            continue
        s = ro_values(r, CSV_CUTOFF, newer=False)
        amount = s["amount"]
        if amount is not None:
            total += amount
        w.writerow([r.ro_no, r.plate, r.vin, fmt_csv_dt(r.open_dt, r.csv_date_style),
                    fmt_csv_dt(s["close"], r.csv_date_style), "" if r.km_cell is None else r.km_cell, r.kind_raw,
                    "" if amount is None else f"{amount:.2f}", "是" if r.appointment else "否", r.advisor,
                    s["status"], fmt_csv_dt(s["promised"], "iso"), fmt_csv_dt(s["delivered"], "iso"), r.declined,
                    f"{r.declined_date:%Y-%m-%d}" if r.declined_date else ""])
    w.writerow(["合计", "", "", "", "", "", "", f"{total:.2f}", "", "", "", "", "", "", ""])   # DIRT: totals row
    path.write_bytes(buf.getvalue().encode("gbk"))


def xlsx_dt(dt: datetime | None, style: str):
    if dt is None:
        return None
    if style == "slash_time":
        return f"{dt.year}/{dt.month}/{dt.day} {dt.hour}:{dt.minute:02d}"
    if style:
        return text_date(dt.date(), style)
    return dt


def write_ro_xlsx(ros: list[RO], path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(RO_HEADERS)
    for r in ros:
        if r.open_dt.date() < XLSX_RO_START:
            continue
        s = ro_values(r, EXPORT_CUTOFF, newer=True)
        ws.append([r.ro_no, r.plate or None, r.vin or None, xlsx_dt(r.open_dt, r.xlsx_date_style),
                   xlsx_dt(s["close"], r.xlsx_date_style), r.km_cell, r.kind_raw, s["amount"],
                   "是" if r.appointment else "否", r.advisor, s["status"], s["promised"], s["delivered"],
                   r.declined or None, r.declined_date])
    fmt = "yyyy-mm-dd hh:mm:ss"
    style_dates(ws, 2, {4: fmt, 5: fmt, 12: "yyyy-mm-dd hh:mm", 13: "yyyy-mm-dd hh:mm", 15: "yyyy-mm-dd"})
    for j, w in enumerate([15, 11, 20, 19, 19, 9, 10, 10, 8, 8, 8, 17, 17, 20, 12], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = "A2"
    save_workbook(wb, path)


# ---------------------------------------------------------------------------
# Filled contact logs (联系记录) of a past month
# ---------------------------------------------------------------------------
LOG_MONTH = date(2026, 10, 1)                  # the month list whose logs staff filled in
LOG_AS_OF = date(2026, 9, 30)                  # as `due --month 2026-10` would replay it
LOG_RENAMED = {"王丽": "10月回访-王丽.xlsx"}      # DIRT: a log renamed by its agent
LOG_REASONS = ["价格贵", "路途远", "已在4S店外保养", "工作忙", "车辆很少开", "对服务不满意"]
LOG_SHOPS = ["途虎养车 宝安店 ¥380", "途虎养车 龙华店 ¥420", "小拇指汽修 南山 ¥300",
             "车享家 福田店 ¥450", "路边修理厂 ¥260", "另一家4S店 龙岗 ¥680"]
LABELS = {"reached_booked": "已预约", "reached_declined": "拒绝", "reached_later": "考虑/稍后",
          "no_answer": "无人接听", "busy": "占线/挂断", "wrong_number": "空号/错号",
          "done_elsewhere": "已在他店保养", "sold": "已卖车", "scrapped": "已报废",
          "moved": "外迁", "opt_out": "拒绝联系"}


def write_filled_logs(out: Path) -> list[Path]:
    """Make the October 2026 list the way `due --month 2026-10 --as-of 2026-09-30` does on
    the files just written (aftercare imported from this repo, the demo's config), and fill
    its contact logs as the two agents would have by the export date: codes and Chinese
    labels, dates typed or left as planned, rows left empty, reasons, other shops, new
    numbers; one log renamed. Seeded, so the bytes are the same every run."""
    import sys
    import tempfile

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    from aftercare.commands.due import build
    from aftercare.config import load_config
    from aftercare.load import load_folder
    from aftercare.reports.contact_log import build_log_frame, write_contact_logs

    for old in [*out.glob("log-*.xlsx"), *[out / n for n in LOG_RENAMED.values()]]:
        old.unlink(missing_ok=True)
    cfg = load_config(root / "examples" / "sample" / "aftercare.toml")
    ds = load_folder(out, cfg)
    res = build(ds, cfg, as_of=LOG_AS_OF, month=LOG_MONTH, agents=cfg["calling"]["agents"],
                lang="zh")
    log = build_log_frame(res["calls"], res["reminders"], res["stem"])
    # each vehicle's customer visits (date) after the list was made, for realistic outcomes
    vis = ds.repair_orders[ds.repair_orders["is_visit"]]
    vid_of = dict(zip(ds.vehicles["vin"].dropna(), ds.vehicles.loc[ds.vehicles["vin"].notna(),
                                                                    "vehicle_id"]))
    visits: dict[int, list[date]] = {}
    for vid, d in zip(vis["vehicle_id"], vis["open_date"]):
        if d.date() > LOG_AS_OF:
            visits.setdefault(int(vid), []).append(d.date())
    rnd = random.Random(SEED + 1010)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_contact_logs(Path(tmp), res["stem"], log, lang="zh", force=True,
                                   stamp="0")
        for path in paths:
            wb = openpyxl.load_workbook(path)
            fill_log(wb["联系记录"], rnd, visits, vid_of)
            staff_mistakes(wb["联系记录"], first=not written)
            agent = path.stem.split("-", 3)[-1]
            target = out / LOG_RENAMED.get(agent, path.name)
            save_workbook(wb, target)
            written.append(target)
    return written


def fill_log(ws, rnd: random.Random, visits: dict, vid_of: dict) -> None:
    """Fill one agent's log: the first row of each call carries the attempts and the
    outcome (a vehicle's own outcome — sold, done elsewhere — on that vehicle's row)."""
    header = [c.value for c in ws[1]]
    col = {h: j + 1 for j, h in enumerate(header)}
    by_call: dict[str, list[int]] = {}
    for r in range(2, ws.max_row + 1):
        by_call.setdefault(ws.cell(r, col["呼叫编号"]).value, []).append(r)
    opt_outs = 0

    def pick(pairs):
        values, weights = zip(*pairs)
        return rnd.choices(values, weights=weights)[0]

    for call_id, rows in by_call.items():
        r = rows[0]
        plan = ws.cell(r, col["第1次计划"]).value or ""
        if not plan:
            continue                                               # overflow: never called
        day1 = date.fromisoformat(plan[:10])
        days = [day1] + [date.fromisoformat((ws.cell(r, col[f"第{n}次计划"]).value or plan)[:10])
                         for n in (2, 3)]
        kinds = (ws.cell(r, col["提醒类型"]).value or "").split(";")
        vin = ws.cell(r, col["VIN"]).value
        came = [d for d in visits.get(vid_of.get(vin, -1), []) if d >= day1]
        greeting = kinds == ["birthday"]                           # nothing to book
        x = rnd.random()
        if x < 0.10:
            continue                                               # DIRT: rows left empty
        if came and not greeting and rnd.random() < 0.8:
            outcome = "reached_booked"
        elif x < 0.22:
            outcome = "fail3"
        elif x < 0.25 and opt_outs < 2:
            outcome, opt_outs = "opt_out", opt_outs + 1
        else:
            outcome = pick([("reached_later", 25), ("reached_declined", 18),
                            ("reached_booked", 0 if greeting else 8), ("wrong_number", 5),
                            ("done_elsewhere", 0 if greeting else 6),
                            ("sold", 1.5), ("moved", 1.5), ("scrapped", 0.7)])
        fails = 3 if outcome == "fail3" else pick([(0, 60), (1, 25), (2, 15)])
        word = lambda code: LABELS[code] if rnd.random() < 0.6 else code  # noqa: E731
        for n in range(fails):
            ws.cell(r, col[f"第{n + 1}次结果"], word(rnd.choice(["no_answer", "busy"])))
            if rnd.random() < 0.3:
                ws.cell(r, col[f"第{n + 1}次日期"], typed_date(days[n], rnd))
        if outcome == "fail3":
            continue
        n = fails + 1
        ws.cell(r, col[f"第{n}次结果"], word(outcome))
        when = days[n - 1]
        if rnd.random() < 0.3:
            ws.cell(r, col[f"第{n}次日期"], typed_date(when, rnd))
        if rnd.random() < 0.6:
            ws.cell(r, col["结果代码"], word(outcome))
        if outcome == "reached_booked":
            booked = (came[0] - timedelta(days=rnd.choice([0, 0, 1, 2]))) if came else \
                when + timedelta(days=rnd.randint(3, 20))          # no visit: a no-show
            ws.cell(r, col["预约日期"], max(booked, when))
        elif outcome in ("reached_declined", "reached_later") and rnd.random() < 0.6:
            ws.cell(r, col["未回厂原因"], rnd.choice(LOG_REASONS))
        elif outcome == "done_elsewhere":
            ws.cell(r, col["他店信息"], rnd.choice(LOG_SHOPS))
            ws.cell(r, col["未回厂原因"], rnd.choice(["价格贵", "路途远", "已在4S店外保养"]))
            if rnd.random() < 0.7:
                ws.cell(r, col["他店日期"], f"{when - timedelta(days=rnd.randint(5, 40)):%Y-%m-%d}")
                if "first_service" in kinds:
                    ws.cell(r, col["他店里程"], f"{rnd.randint(45, 55) * 100}")
        elif outcome == "wrong_number" and rnd.random() < 0.5:
            ws.cell(r, col["新号码"], "1" + rnd.choice(["39", "58", "86"]) +
                    f"{rnd.randint(0, 99999999):08d}")
        elif outcome == "reached_later" and rnd.random() < 0.1:
            ws.cell(r, col["备注"], "客户说月底再联系")


def staff_mistakes(ws, first: bool) -> None:
    """DIRT: what staff get wrong in a log: a result that is no code nor label, a date that
    does not exist, and (in the first log) a row typed in whose keys match nobody."""
    header = [c.value for c in ws[1]]
    col = {h: j + 1 for j, h in enumerate(header)}
    ws.cell(6, col["第1次结果"], "打不通")
    ws.cell(10, col["第1次日期"], "10月32日")
    if first:
        r = ws.max_row + 1
        for h, v in (("客户编号", "KH999999"), ("客户名称", "李先生"), ("手机", "13800138000"),
                     ("车牌号", "粤B00000"), ("结果代码", "已预约"), ("预约日期", "2026-11-02")):
            ws.cell(r, col[h], v)


def typed_date(d: date, rnd: random.Random):
    """A date as staff type it: a real date, ISO text, or month.day without a year."""
    style = rnd.random()
    if style < 0.4:
        return datetime.combine(d, time(0, 0))
    if style < 0.8:
        return f"{d:%Y-%m-%d}"
    return f"{d.month}.{d.day}"                                     # DIRT: no year


# ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="output folder (default: the folder of this script)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    customers, fleets = make_customers()
    vehicles = make_vehicles(customers, fleets)
    for v in vehicles:
        v.customer.vehicles.append(v)
    finalise_customers(customers)
    assign_profiles(vehicles)
    # vehicle-file rows are drawn before the ROs: the wrong-check-digit VINs carry into the ROs
    vehicles.sort(key=lambda v: (v.customer.customer_id, v.delivery))
    write_vehicles(vehicles, args.out / VEHICLE_FILE)
    walk_ins = make_walk_ins(vehicles)
    ros = make_repair_orders(vehicles, walk_ins)
    inject_ro_dirt(ros)
    write_customers(customers, args.out / CUSTOMER_FILE)
    write_ro_csv(ros, args.out / RO_CSV_FILE)
    write_ro_xlsx(ros, args.out / RO_XLSX_FILE)
    logs = write_filled_logs(args.out)
    print(f"{len(customers)} customers, {len(vehicles)} vehicles, {len(ros)} ROs, "
          f"{len(logs)} filled contact logs -> {args.out}")


if __name__ == "__main__":
    main()
