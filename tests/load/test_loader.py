"""The loader end to end on small fixtures: one quirk of real DMS exports per test."""

import os
from pathlib import Path

import pandas as pd
import pytest

from aftercare.config import defaults, merge
from aftercare.errors import BadFileError, MissingColumnError
from aftercare.load import load_folder
from tests.load.files import csv, xlsx

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"

VEH_HEADER = ["VIN", "车牌号", "客户编号", "品牌", "车型", "交车日期"]
GOOD_VIN = "1M8GDM9AXKP042788"


def test_gbk_csv_with_title_and_totals_rows(tmp_path):
    """A GBK CSV with a title above the header and a totals row below loads every RO and
    reports the totals row with its real line number."""
    csv(tmp_path / "工单.csv", [
        "维修工单明细表", "导出时间: 2026-11-20",
        "工单号,车牌号,进厂日期,进厂里程,维修类型,结算金额",
        "R1,粤B12345,2026-01-05,1.2万,首保,0",
        "R2,粤B12345,2026/7/5,18000,定期保养,650.5",
        "合计,,,,,650.5",
    ], encoding="gbk")
    ds = load_folder(tmp_path, defaults())
    ros = ds.repair_orders.sort_values("ro_no")
    assert list(ros["ro_no"]) == ["R1", "R2"]
    assert list(ros["mileage"]) == [12000.0, 18000.0]
    assert list(ros["kind"]) == ["first_service", "maintenance"]
    assert ros["open_date"].iloc[1] == pd.Timestamp("2026-07-05")
    issues = ds.issues.frame()
    totals = issues[issues["reason"] == "totals_row"]
    assert list(totals["row"]) == [6] and list(totals["file"]) == ["工单.csv"]


def test_xlsx_title_rows_and_data_from_column_b(tmp_path):
    """An xlsx with a title, a blank row, the header in row 3 from column B and a
    placeholder row under it loads with Excel row numbers intact."""
    xlsx(tmp_path / "车辆.xlsx", [
        ["车辆基准信息"], [],
        VEH_HEADER,
        ["${item.vinNo}", "${item.carRegNo}", "${item.custNo}", "", "", ""],
        [GOOD_VIN, "粤B00001", "C1", "丰田", "凯美瑞", "2024-03-01"],
        ["", "粤B00002", "C2", "本田", "雅阁", "2024/3/2"],
    ], start_col=2)
    ds = load_folder(tmp_path, defaults())
    v = ds.vehicles.sort_values("plate")
    assert list(v["plate"]) == ["粤B00001", "粤B00002"]
    assert list(v["_row"]) == [5, 6]
    assert v["delivery_date"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-02")]
    sheet = ds.sheets[0]
    assert sheet.header_row == 3 and sheet.table == "vehicles"
    issues = ds.issues.frame()
    assert list(issues.loc[issues["reason"] == "placeholder_row", "row"]) == [4]


def test_missing_required_column_message(tmp_path):
    """An RO sheet without an open date stops the run with every detail needed to fix it."""
    csv(tmp_path / "ros.csv", ["工单号,车牌号,维修类型", "R1,粤B1,保养"])
    with pytest.raises(MissingColumnError) as err:
        load_folder(tmp_path, defaults())
    msg = str(err.value)
    assert err.value.exit_code == 2
    assert msg == (
        "ros.csv [ros]: 缺少必需列 'open_date' (表 repair_orders)。"
        "尝试过的列名: 进厂日期, 进站日期, 进店日期, 开单日期, 开单时间, 接车日期, 来店日期, "
        "进厂时间, 入厂时间, 送修日期, 维修委托时间, 工单开单日期, 接待日期, Open Date, OpenDate, "
        "JobCard Date, Service Date, Arac giris tarihi, Transaction Date。"
        "实际找到的列: 工单号, 车牌号, 维修类型。"
        "如果该列在文件里叫别的名字，请在 aftercare.toml 的 [aliases.repair_orders] open_date"
        " = [\"…\"] 中添加别名。"
    ).replace("ros.csv", str(tmp_path / "ros.csv"), 1)


def test_config_alias_is_enough_for_a_new_header(tmp_path):
    """A header no built-in alias knows loads once the config names it."""
    csv(tmp_path / "ros.csv", ["工单号,车牌号,进站日,维修类型", "R1,粤B1,2025-01-02,保养"])
    with pytest.raises(MissingColumnError, match="进站日"):
        load_folder(tmp_path, defaults())
    cfg = merge(defaults(), {"aliases": {"repair_orders": {"open_date": ["进站日"]}}})
    ds = load_folder(tmp_path, cfg)
    assert ds.repair_orders["open_date"].tolist() == [pd.Timestamp("2025-01-02")]


def test_service_type_required_unless_ro_lines_give_it(tmp_path):
    """An RO sheet without a service type is an error unless an RO-lines table supplies it."""
    csv(tmp_path / "ros.csv", ["工单号,车牌号,进厂日期", "R1,粤B1,2025-01-02",
                                "R2,粤B1,2025-03-02"])
    with pytest.raises(MissingColumnError, match="service_type"):
        load_folder(tmp_path, defaults())
    csv(tmp_path / "lines.csv", ["工单号,项目名称,工段,费用", "R1,机油,保养,300", "R1,洗车,精洗,30",
                                  "R2,钣金,喷漆,800", "R2,首保,首保,0"])
    ds = load_folder(tmp_path, defaults())
    ros = ds.repair_orders.set_index("ro_no")
    assert ros.loc["R1", "kind"] == "maintenance"  # maintenance beats other
    assert ros.loc["R2", "kind"] == "first_service"  # first_service beats bodyshop


def test_configured_join_key_for_lines(tmp_path):
    """RO lines joined on a hidden row id through [join] get their RO's kind."""
    csv(tmp_path / "ros.csv", ["工单唯一编号,维修单号,车牌号,入厂时间", "u-1,WX01,粤B1,2015-03-01"])
    csv(tmp_path / "lines.csv", ["维修单号,项目名称,工段,费用", "u-1,机油,保养,300"])
    cfg = merge(defaults(), {"join": {"repair_orders_key": "工单唯一编号",
                                      "ro_lines_key": "维修单号"}})
    ds = load_folder(tmp_path, cfg)
    assert ds.repair_orders["kind"].tolist() == ["maintenance"]
    assert ds.repair_orders["ro_no"].tolist() == ["WX01"]
    assert ds.repair_orders["amount"].tolist() == [300.0]


def test_line_level_export_aggregates_to_one_ro(tmp_path):
    """Rows sharing an RO number in one file are one RO: top kind, amounts summed."""
    csv(tmp_path / "ros.csv", ["工单号,车牌号,进厂日期,维修类型,结算金额",
                                "R1,粤B1,2025-01-02,洗车,30", "R1,粤B1,2025-01-02,定保,600",
                                "R2,粤B2,2025-01-03,机修,100"])
    ds = load_folder(tmp_path, defaults())
    ros = ds.repair_orders.set_index("ro_no")
    assert len(ros) == 2
    assert ros.loc["R1", "kind"] == "maintenance" and ros.loc["R1", "amount"] == 630.0


def test_overlapping_exports_deduplicated_newest_wins(tmp_path):
    """The same RO in two files is counted once, the copy from the newer file winning."""
    old = csv(tmp_path / "a_old.csv", ["工单号,车牌号,进厂日期,维修类型,结算金额",
                                       "R1,粤B1,2025-01-02,保养,100", "R2,粤B1,2025-02-02,保养,100"])
    new = csv(tmp_path / "b_new.csv", ["工单号,车牌号,进厂日期,维修类型,结算金额",
                                       "R2,粤B1,2025-02-02,保养,999", "R3,粤B1,2025-03-02,保养,1"])
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_000_100, 1_700_000_100))
    ds = load_folder(tmp_path, defaults())
    ros = ds.repair_orders.set_index("ro_no")
    assert sorted(ros.index) == ["R1", "R2", "R3"]
    assert ros.loc["R2", "amount"] == 999.0 and ros.loc["R2", "_file"] == "b_new.csv"
    assert ds.ro_duplicates == 1
    os.utime(old, (1_700_000_200, 1_700_000_200))  # now the "old" file is the newest
    ds = load_folder(tmp_path, defaults())
    assert ds.repair_orders.set_index("ro_no").loc["R2", "amount"] == 100.0


def test_ros_link_by_vin_else_plate_and_ro_only_vehicles(tmp_path):
    """ROs link by VIN when both have one, else by plate; unknown cars become vehicles."""
    xlsx(tmp_path / "veh.xlsx", [VEH_HEADER, [GOOD_VIN, "粤B00001", "C1", "丰田", "凯美瑞",
                                              "2024-03-01"],
                                 ["", "粤B00002", "C2", "本田", "雅阁", "2024-03-02"]])
    csv(tmp_path / "ros.csv", [
        "工单号,VIN,车牌号,进厂日期,维修类型",
        f"R1,{GOOD_VIN},粤B99999,2025-01-02,保养",   # VIN wins over a changed plate
        "R2,,粤B00002,2025-01-03,保养",              # plate
        "R3,,粤B77777,2025-01-04,保养",              # unknown: a new vehicle
        "R4,,粤B77777,2025-02-04,机修",
    ])
    ds = load_folder(tmp_path, defaults())
    v = ds.vehicles.set_index("vehicle_id")
    ros = ds.repair_orders.set_index("ro_no")
    assert v.loc[ros.loc["R1", "vehicle_id"], "vin"] == GOOD_VIN
    assert v.loc[ros.loc["R2", "vehicle_id"], "plate"] == "粤B00002"
    assert ros.loc["R3", "vehicle_id"] == ros.loc["R4", "vehicle_id"]
    new = v.loc[ros.loc["R3", "vehicle_id"]]
    assert bool(new["from_ros"]) and new["plate"] == "粤B77777"
    assert len(v) == 3


def test_vehicles_link_to_customers_by_id_else_mobile(tmp_path):
    """A vehicle's customer is found by customer id, else by mobile; the customers table
    wins over the vehicle's own owner columns."""
    xlsx(tmp_path / "veh.xlsx", [
        ["VIN", "车牌号", "客户编号", "车主", "手机", "交车日期"],
        [GOOD_VIN, "粤B1", "C1", "旧名字", "13800000000", "2024-03-01"],
        ["", "粤B2", "", "", "139 0000 0000", "2024-03-01"],
        ["", "粤B3", "", "王五", "", "2024-03-01"],
    ])
    xlsx(tmp_path / "cust.xlsx", [
        ["客户编号", "客户名称", "手机号码", "生日"],
        ["C1", "张三", "13811111111", "1980-05-06"],
        ["C2", "李四", "13900000000", ""],
    ])
    ds = load_folder(tmp_path, defaults())
    v = ds.vehicles.set_index("plate")
    c = ds.customers.set_index("customer_key")
    assert v.loc["粤B1", "customer_key"] == "c:C1"
    assert c.loc["c:C1", "customer_name"] == "张三" and c.loc["c:C1", "mobile"] == "13811111111"
    assert v.loc["粤B2", "customer_key"] == "c:C2"  # by mobile
    own = v.loc["粤B3", "customer_key"]
    assert own.startswith("v:") and c.loc[own, "customer_name"] == "王五"


def test_test_rows_and_deleted_ros_are_issues(tmp_path):
    """Test rows are listed and never used; deleted ROs are kept as non-visits and listed."""
    csv(tmp_path / "ros.csv", ["工单号,车牌号,车主,进厂日期,维修类型,工单状态",
                                "R1,测试001,某人,2025-01-02,保养,已结算",
                                "R2,粤B1,测试,2025-01-02,保养,已结算",
                                "R3,粤B1,张三,2025-01-03,保养,作废",
                                "R4,粤B1,张三,2025-01-04,PDI,已结算"])
    ds = load_folder(tmp_path, defaults())
    ros = ds.repair_orders.set_index("ro_no")
    assert sorted(ros.index) == ["R3", "R4"]
    assert bool(ros.loc["R3", "deleted"]) and not bool(ros.loc["R3", "is_visit"])
    assert not bool(ros.loc["R4", "is_visit"])  # internal
    reasons = ds.issues.frame()["reason"].value_counts()
    assert reasons["test_row"] == 2 and reasons["deleted_ro"] == 1


def test_html_disguised_xls(tmp_path):
    """A web DMS's `.xls` that is really an HTML table loads like any sheet."""
    html = ("<html><head><meta charset='gbk'></head><body><table>"
            "<tr><td>工单号</td><td>车牌号</td><td>进厂日期</td><td>维修类型</td></tr>"
            "<tr><td>R1</td><td>粤B1</td><td>2025-01-02</td><td>保养</td></tr>"
            "</table></body></html>")
    (tmp_path / "export.xls").write_bytes(html.encode("gbk"))
    ds = load_folder(tmp_path, defaults())
    assert ds.repair_orders["kind"].tolist() == ["maintenance"]


def test_a_folder_without_vehicles_or_ros_is_unusable(tmp_path):
    """A folder whose files hold no recognisable vehicles or ROs stops with exit 2."""
    from aftercare.errors import InputError

    csv(tmp_path / "notes.csv", ["充值金额,剩余金额", "1,2"])
    with pytest.raises(InputError, match="notes.csv") as err:
        load_folder(tmp_path, defaults())
    assert err.value.exit_code == 2


def test_skips_lock_files_outputs_and_lists_ignored(tmp_path):
    """Lock files are skipped silently, our own outputs and unknown sheets are listed."""
    csv(tmp_path / "ros.csv", ["工单号,车牌号,进厂日期,维修类型", "R1,粤B1,2025-01-02,保养"])
    (tmp_path / "~$ros.xlsx").write_bytes(b"lock")
    (tmp_path / ".~lock.ros.csv#").write_bytes(b"lock")
    xlsx(tmp_path / "due-2026-12.xlsx", [["a"]])
    csv(tmp_path / "opt-outs.csv", ["customer_id,mobile,plate,date,source",
                                    "C1,13800000001,粤B1,2026-10-09,log.xlsx"])
    csv(tmp_path / "notes.csv", ["充值金额,剩余金额", "1,2"])
    ds = load_folder(tmp_path, defaults())
    assert ("due-2026-12.xlsx", "our_output") in ds.skipped_files
    assert ("opt-outs.csv", "our_output") in ds.skipped_files  # the opt-out register
    assert all("~" not in f for f, _ in ds.skipped_files)
    notes = [s for s in ds.sheets if s.file == "notes.csv"][0]
    assert notes.table is None and notes.reason == "no_header"


def test_bad_file_stops_unless_skipped(tmp_path):
    """An unreadable file is exit 2, or listed and skipped with --skip-bad-files."""
    csv(tmp_path / "ros.csv", ["工单号,车牌号,进厂日期,维修类型", "R1,粤B1,2025-01-02,保养"])
    (tmp_path / "broken.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n not a workbook")
    with pytest.raises(BadFileError):
        load_folder(tmp_path, defaults())
    ds = load_folder(tmp_path, defaults(), skip_bad_files=True)
    assert [f for f, _ in ds.bad_files] == ["broken.xlsx"]
    assert len(ds.repair_orders) == 1


def test_input_files_are_not_modified(tmp_path):
    """Loading leaves every input file byte-for-byte and mtime unchanged."""
    path = csv(tmp_path / "ros.csv", ["工单号,车牌号,进厂日期,维修类型", "R1,粤B1,2025-01-02,保养"])
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    load_folder(tmp_path, defaults())
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ros.csv"]


@pytest.mark.realdata
@pytest.mark.skipif(not (REALDATA / "arms-2015").is_dir(), reason="../shared/realdata absent")
def test_arms_2015_real_export_loads_all_four_tables():
    """The real repair chain's export loads with its example config, ROs take their kind
    from the lines' 工段, and its real dirt shows up as data issues."""
    from aftercare.config import load_config

    root = Path(__file__).resolve().parents[2]
    cfg = load_config(root / "examples" / "arms-2015" / "aftercare.toml")
    ds = load_folder(REALDATA / "arms-2015", cfg)
    tables = {s.file: s.table for s in ds.sheets}
    assert tables == {"客户档案.csv": "customers", "工单维修项目.csv": "ro_lines",
                      "维修工单.csv": "repair_orders", "车辆档案.csv": "vehicles"}
    ros = ds.repair_orders
    assert len(ros) > 600
    assert ros["kind_from_lines"].notna().sum() > 500
    assert {"maintenance", "repair", "other"} <= set(ros["kind"])
    issues = ds.issues.frame()
    reasons = set(issues["reason"])
    assert {"test_row", "deleted_ro", "mileage_out_of_range", "date_unparseable"} <= reasons
    assert "20152-11-28" in set(issues.loc[issues["reason"] == "date_unparseable", "value"])
    assert "678098765" in set(issues["value"])
    # vehicles link to the customers table by 客户id
    assert ds.vehicles["customer_key"].str.startswith("c:").mean() > 0.9


TEMPLATES = REALDATA / "templates"


@pytest.mark.realdata
@pytest.mark.skipif(not TEMPLATES.is_dir(), reason="../shared/realdata absent")
@pytest.mark.parametrize("name,table,header_row", [
    ("bhmc_dms/RepairOrderStatusList_Tpl.xlsx", "repair_orders", 3),
    ("bhmc_dms/VehicleBaseinfoList_Tpl.xlsx", "vehicles", 3),
    ("bhmc_dms/CustomerInfoExp_Tpl.xlsx", "customers", 3),
    ("hsweb_dms/matain.xls", "repair_orders", 1),
    ("hsweb_dms/customerInfoTemplate.xls", "vehicles", 2),
    ("szqdms/vehicleImp.xls", "vehicles", 2),
])
def test_real_templates_are_recognised(tmp_path, name, table, header_row):
    """The real DMS templates' layouts (title rows, placeholder rows, data from column B)
    are classified with the right header row."""
    import shutil

    shutil.copy(TEMPLATES / name, tmp_path / Path(name).name)
    try:
        ds = load_folder(tmp_path, defaults(), require=False)  # templates hold no data
    except MissingColumnError:
        if table != "repair_orders":
            raise
        return  # a template may lack a required column; that it is seen as ROs is enough
    sheet = [s for s in ds.sheets if s.table][0]
    assert (sheet.table, sheet.header_row) == (table, header_row)
