"""User-facing words: sheet names, column headers and reason texts, in Chinese (default)
and English (``--lang en``). Code identifiers stay English everywhere; this is the one
place that maps them to what agents read."""

from __future__ import annotations

LANGS = ("zh", "en")

SHEETS = {
    "data_issues": ("数据问题", "Data issues"),
    "summary": ("汇总", "Summary"),
}

COLUMNS = {
    # data issues
    "file": ("文件", "File"),
    "sheet": ("工作表", "Sheet"),
    "row": ("行号", "Row"),
    "field": ("字段", "Field"),
    "value": ("原始值", "Value"),
    "reason": ("原因", "Reason"),
    "detail": ("说明", "Detail"),
    # canonical fields
    "customer_id": ("客户编号", "customer_id"),
    "customer_name": ("客户名称", "customer_name"),
    "mobile": ("手机", "mobile"),
    "other_phones": ("其他号码", "other_phones"),
    "plate": ("车牌号", "plate"),
    "vin": ("VIN", "vin"),
    "brand": ("品牌", "brand"),
    "model": ("车型", "model"),
    "delivery_date": ("交车日期", "delivery_date"),
    "registration_date": ("初次登记日期", "registration_date"),
    "inspection_due": ("年审到期日", "inspection_due"),
    "warranty_end": ("保修截止日期", "warranty_end"),
    "warranty_km": ("保修里程", "warranty_km"),
    "insurance_expiry": ("保险到期日", "insurance_expiry"),
    "compulsory_expiry": ("交强险到期日", "compulsory_expiry"),
    "use_class": ("使用性质", "use_class"),
    "status": ("车辆状态", "status"),
    "store": ("店铺", "store"),
    "birthday": ("生日", "birthday"),
    "id_number": ("身份证号", "id_number"),
    "address": ("地址", "address"),
    "gender": ("性别", "gender"),
    "customer_type": ("客户类型", "customer_type"),
    "do_not_contact": ("免打扰", "do_not_contact"),
    "ro_no": ("工单号", "ro_no"),
    "open_date": ("进厂日期", "open_date"),
    "close_date": ("结算日期", "close_date"),
    "mileage": ("进厂里程", "mileage"),
    "service_type": ("维修类型", "service_type"),
    "is_first_service": ("是否首保", "is_first_service"),
    "amount": ("结算金额", "amount"),
    "appointment": ("是否预约", "appointment"),
    "advisor": ("服务顾问", "advisor"),
    "deleted": ("是否删除", "deleted"),
    "ro_status": ("工单状态", "ro_status"),
    "promised_at": ("预计交车时间", "promised_at"),
    "delivered_at": ("实际交车时间", "delivered_at"),
    "declined_items": ("建议维修项目", "declined_items"),
    "declined_due_date": ("建议维修日期", "declined_due_date"),
    "declined_due_km": ("建议维修里程", "declined_due_km"),
    "item_name": ("项目名称", "item_name"),
    "join_key": ("关联键", "join_key"),
    # contact logs
    "call_id": ("呼叫编号", "call_id"),
    **{f"attempt{n}_{p}": (f"第{n}次{zh}", f"attempt{n}_{p}") for n in (1, 2, 3)
       for p, zh in (("date", "日期"), ("result", "结果"))},
    "result": ("结果代码", "result"),
    "booked_date": ("预约日期", "booked_date"),
    "other_shop_date": ("他店日期", "other_shop_date"),
    "other_shop_km": ("他店里程", "other_shop_km"),
    "new_mobile": ("新号码", "new_mobile"),
}

TABLES = {
    "vehicles": ("车辆档案", "vehicles"),
    "customers": ("客户档案", "customers"),
    "repair_orders": ("维修工单", "repair orders"),
    "ro_lines": ("工单明细", "RO lines"),
    "contact_logs": ("联系记录", "contact logs"),
}

# Reasons found by the loader; the parsers' own are in aftercare.parse.REASONS.
REASONS = {
    "placeholder_row": ("表头下方的提示/占位行，已跳过", "hint or placeholder row under the header, skipped"),
    "totals_row": ("合计行，已跳过", "totals row, skipped"),
    "test_row": ("测试数据，不使用", "test row, not used"),
    "no_vehicle_key": ("没有 VIN 也没有车牌号，无法识别车辆", "no VIN and no plate: vehicle unknown"),
    "no_customer_key": ("没有客户编号也没有可用手机号，无法关联车辆", "no customer id and no usable mobile: cannot be linked"),
    "duplicate_vehicle": ("重复的车辆记录，已使用最新文件中的一条", "duplicate vehicle row; the newest file's copy is used"),
    "duplicate_customer": ("重复的客户记录，已使用最新文件中的一条", "duplicate customer row; the newest file's copy is used"),
    "missing_ro_no": ("缺少工单号", "missing RO number"),
    "missing_open_date": ("缺少或无法识别进厂日期，工单不能使用", "missing or unreadable open date: RO not used"),
    "event_date_suspect": ("日期早于 1990 年，可疑，未使用", "date before 1990 is suspect: not used"),
    "amount_negative": ("金额为负（如未结算的 -1.00），不计入消费", "negative amount (e.g. unsettled -1.00): not counted as spend"),
    "deleted_ro": ("已删除/作废的工单，不算到店", "deleted or void RO: not a visit"),
    "amount_unparseable": ("无法识别的金额", "unrecognised amount"),
    "no_service_type": ("没有维修类型，按一般维修处理", "no service type: treated as repair"),
    # files and sheets (check)
    "not_a_data_file": ("不是支持的文件类型", "not a supported file type"),
    "our_output": ("aftercare 自己生成的文件", "aftercare's own output"),
    "empty_sheet": ("空工作表", "empty sheet"),
    "no_header": ("前 20 行中找不到可识别的表头", "no recognisable header in the first 20 rows"),
    "no_table_match": ("表头不符合任何一类数据（车辆、客户、工单、工单明细）",
                       "headers match no table (vehicles, customers, ROs, RO lines)"),
    "no_callable_number": ("没有可拨打的号码", "no callable number"),
    "no_delivery_date": ("没有交车日期，无法计算首保", "no delivery date: first service cannot be computed"),
    "contact_log": ("联系记录（由 due 生成，员工填写）", "contact log (written by due, filled by staff)"),
    # contact logs read back
    "log_no_header": ("log- 文件中找不到联系记录表头（呼叫编号），未读取",
                      "no contact-log header (呼叫编号/call_id) in a log- file: not read"),
    "log_unknown_code": ("联系记录中无法识别的结果，按空白处理；可用的结果见说明",
                         "unknown result in a contact log, read as empty; the allowed codes "
                         "are in Detail"),
    "log_no_match": ("联系记录的客户编号/手机/车牌都对不上任何客户（是否改动了预填列？），该行未使用",
                     "contact-log row matches no customer by id, mobile or plate (edited key "
                     "columns?): not used"),
    "log_vehicle_no_match": ("联系记录的车牌/VIN 对不上任何车辆，已卖车/报废/他店保养未生效",
                             "contact-log plate/VIN matches no vehicle: sold/scrapped/done "
                             "elsewhere not applied"),
}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def sheet_name(key: str, lang: str) -> str:
    return pick(SHEETS[key], lang)


def column(field: str, lang: str) -> str:
    pair = COLUMNS.get(field)
    return pick(pair, lang) if pair else field


def headers(fields, lang: str) -> dict[str, str]:
    return {f: column(f, lang) for f in fields}


def table_label(table: str | None, lang: str) -> str:
    if table is None:
        return "—"
    return pick(TABLES.get(table, (table, table)), lang)


def reason_text(code: str, lang: str) -> str:
    """Plain words for a reason code, in the user's language (the code itself if unknown)."""
    from aftercare import parse
    from aftercare.rules import mileage

    pair = REASONS.get(code) or parse.REASONS.get(code) or mileage.REASONS.get(code)
    return pick(pair, lang) if pair else code
