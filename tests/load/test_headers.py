"""Header normalisation, header-row detection and sheet classification."""

from aftercare.load.headers import alias_table, classify, find_header_row, normalise_header


def test_normalise_strips_marks_hints_and_width():
    """Full-width letters, (*) marks, bracketed hints and spaces do not change a header."""
    assert normalise_header("ＶＩＮ") == "vin"
    assert normalise_header("VIN（*）") == "vin"
    assert normalise_header("车牌号 ") == "车牌号"
    assert normalise_header("年检到期（年/月/日）") == "年检到期"
    assert normalise_header("发动机号(*）") == "发动机号"
    assert normalise_header("客户类型(个人/公司)") == "客户类型"
    assert normalise_header(None) == ""


def test_header_row_found_under_title_and_above_hints():
    """The header is the row matching most aliases, below a title and above a hint row."""
    rows = [
        ["维修委托查询", None, None],
        [None, None, None],
        ["车牌号码", "车辆识别码", "维修委托号码", "维修委托时间"],
        ["${item.carRegNo}", "${item.vinNo}", "${item.roDocNo}", "${item.roDt}"],
    ]
    assert find_header_row(rows, alias_table()) == 2


def test_no_header_when_nothing_matches():
    """A sheet whose first rows match fewer than two aliases has no header row."""
    assert find_header_row([["hello", "world"], ["a", "b"]], alias_table()) is None


def test_classify_each_table():
    """Sheets are classified by what their headers hold."""
    a = alias_table()
    assert classify(["工单号", "车牌号", "进厂日期", "维修类型"], a).table == "repair_orders"
    assert classify(["维修单号", "项目名称", "工段", "费用"], a).table == "ro_lines"
    assert classify(["VIN", "车牌号", "交车日期", "品牌"], a).table == "vehicles"
    assert classify(["客户编号", "客户名称", "手机号码", "生日"], a).table == "customers"
    assert classify(["序号", "客户名", "生日", "证件号码", "移动电话", "车牌号"], a).table == "customers"
    assert classify(["充值金额", "剩余金额"], a).table is None


def test_same_header_means_different_fields_per_table():
    """交车日期 is a delivery date for vehicles and the hand-back time on an RO."""
    a = alias_table()
    veh = classify(["VIN", "交车日期", "品牌"], a)
    ro = classify(["工单号", "VIN", "进厂日期", "交车日期"], a)
    assert veh.columns["delivery_date"] == [1]
    assert "delivery_date" not in ro.columns and ro.columns["delivered_at"] == [3]


def test_first_listed_alias_wins_and_user_alias_first():
    """Two columns for one field: the first-listed alias wins; a user alias beats both."""
    a = alias_table()
    m = classify(["工单号", "车牌号", "结算时间", "结算日期", "进厂日期"], a)
    assert m.columns["close_date"] == [3, 2]
    a2 = alias_table({"repair_orders": {"close_date": ["结算时间"]}})
    m2 = classify(["工单号", "车牌号", "结算时间", "结算日期", "进厂日期"], a2)
    assert m2.columns["close_date"][0] == 2


def test_pinned_table_overrides_detection():
    """A config pin decides the table whatever the headers suggest."""
    m = classify(["VIN", "车牌号", "交车日期"], alias_table(), pinned="customers")
    assert m.table == "customers"
