"""Built-in header aliases, per table (01-data-contract.md, headers-seen-*.md).

Aliases are per table: `交车日期` is a vehicle's delivery date in a vehicle export but the
hand-back time in an RO export. Within a field the order matters: when two columns of
one sheet map to the same field, the one whose alias is listed first wins (a second
phone column becomes secondary numbers). Users add aliases with
``[aliases.<table>] <field> = [...]``; theirs are tried first.
"""

from __future__ import annotations

_VIN = ["VIN", "VIN号", "车架号", "车架号VIN", "VIN码", "底盘号", "车辆识别代号", "车辆识别码",
        "车架号码", "车辆识别号", "车辆识别代码", "Chassis Number", "Sasi No"]
_PLATE = ["车牌号", "车牌号码", "车牌", "牌照号", "号牌号码", "牌照", "车牌照", "Plate",
          "Regn No", "Registration No", "License Plate"]
_CUSTOMER_ID = ["客户编号", "客户代码", "客户ID", "车主编号", "客户号", "会员编号", "Customer No.",
                "Customer ID", "CustomerID", "Customer Number"]
_CUSTOMER_NAME = ["客户名称", "客户姓名", "客户名", "车主", "车主名", "车主姓名", "车主名称", "车辆所有者",
                  "姓名", "用户名称", "Customer Name", "Party Name", "Name"]
_MOBILE = ["手机", "手机号", "手机号码", "移动电话", "车主电话", "联系手机", "客户电话", "联系电话", "电话",
           "固定电话", "Mobile", "Mobile Phone", "CustomerMobilePhone", "Phone", "CustomerHomePhone"]
_BRAND = ["品牌", "厂牌", "车辆品牌", "厂家品牌", "Brand", "Make"]
_MODEL = ["车型", "车型名称", "车系", "车系名称", "车款", "车种名称", "车款名称", "车型代码", "车辆型号",
          "厂牌车型信息", "Model"]
_REGISTRATION = ["初次登记日期", "初登日期", "上牌日期", "登记日期", "注册日期", "车辆注册登记日期",
                 "注册登记日", "Registration Date"]
_INSPECTION = ["年审到期日", "年检到期日", "年审到期日期", "检验有效期至", "年检到期", "年检到期日期"]
_INSURANCE = ["保险到期日", "保险到期", "保险到期日期", "商业险到期日", "商业险到期日期", "车险到期",
              "保险截止日期", "续保到期日", "保险日期"]
_COMPULSORY = ["交强险到期日", "交强险到期日期", "交强险截止日期", "交强险日期"]
_STORE = ["所属店铺", "店铺编号", "经销商", "特约店", "车店名称", "所属店铺编号", "所在分店", "Dealer Name",
          "Plant"]
_RO_NO = ["工单号", "工单号码", "维修工单号", "委托书号", "维修委托号码", "维修单号", "结算单号", "单据号",
          "工单编号", "委托书编号", "结算清单编号", "结算清单号", "RO Number", "RONumber", "Job Card No",
          "Is Emri No", "SH #"]
_DELIVERY_VEHICLE = ["交车日期", "购车日期", "销售日期", "车辆销售日期", "零售日期", "开票日期", "发票日期",
                     "新车交付日期", "Delivery Date", "Sale Date"]

ALIASES: dict[str, dict[str, list[str]]] = {
    "vehicles": {
        "vin": _VIN,
        "plate": _PLATE,
        "customer_id": _CUSTOMER_ID,
        "customer_name": _CUSTOMER_NAME,
        "mobile": _MOBILE,
        "brand": _BRAND,
        "model": _MODEL,
        "delivery_date": _DELIVERY_VEHICLE,
        "registration_date": _REGISTRATION,
        "inspection_due": _INSPECTION,
        "warranty_end": ["保修截止日期", "保修结束日期", "质保到期日", "保修到期日", "质保截止日期",
                         "Garanti Bitis tarihi"],
        "warranty_km": ["保修里程", "质保里程"],
        "insurance_expiry": _INSURANCE,
        "compulsory_expiry": _COMPULSORY,
        "use_class": ["使用性质", "车辆用途"],
        "status": ["车辆状态", "状态"],
        "store": _STORE,
        # owner details carried by vehicle exports (VehicleBaseinfoList and the like)
        "birthday": ["生日", "出生日期", "车主生日", "出生年月日", "Date of Birth"],
        "id_number": ["身份证号", "身份证号码", "证件号码", "证件号", "ID Number"],
        "customer_type": ["客户类型", "客户类别", "用户类型", "Customer Type", "Cust Type"],
    },
    "customers": {
        "customer_id": _CUSTOMER_ID,
        "customer_name": _CUSTOMER_NAME,
        "mobile": _MOBILE,
        "birthday": ["生日", "出生日期", "车主生日", "出生年月日", "Date of Birth"],
        "id_number": ["身份证号", "身份证号码", "证件号码", "证件号", "ID Number"],
        "address": ["地址", "联系地址", "家庭住址", "住址", "详细地址", "用户地址", "联系人地址",
                    "Address"],
        "gender": ["性别", "Gender"],
        "customer_type": ["客户类型", "客户类别", "用户类型", "Customer Type", "Cust Type"],
        "do_not_contact": ["免打扰", "拒访", "拒绝回访", "勿扰", "是否免打扰", "Do Not Contact"],
    },
    "repair_orders": {
        "ro_no": _RO_NO,
        "vin": _VIN,
        "plate": _PLATE,
        "open_date": ["进厂日期", "进站日期", "进店日期", "开单日期", "开单时间", "接车日期", "来店日期",
                      "进厂时间", "入厂时间", "送修日期", "维修委托时间", "工单开单日期", "接待日期",
                      "Open Date", "OpenDate", "JobCard Date", "Service Date", "Arac giris tarihi",
                      "Transaction Date"],
        "close_date": ["结算日期", "出厂日期", "完工日期", "结算时间", "出厂时间", "服务结算时间",
                       "结算完成时间", "结账时间", "Close Date", "CloseDate", "Invoice Date",
                       "Bill Date", "CashierDate"],
        "mileage": ["行驶里程", "进厂里程", "进厂行驶里程", "进厂里程公里数", "接车行驶里程", "送修里程",
                    "进店里程", "维修里程", "里程", "公里数", "里程数", "表显里程", "Mileage",
                    "Odometer", "KMs Reading", "Current Mileage", "Arac KM"],
        "service_type": ["维修类型", "工单类型", "维修类别", "维修委托类型", "业务类型", "服务类型", "工段",
                         "Service Type", "Order Type", "Islem tipi"],
        "is_first_service": ["是否首次保养", "是否首保"],
        "amount": ["结算金额", "最终结算金额", "实收金额", "实付金额", "工单金额", "总金额", "合计金额",
                   "单据金额", "最终实际支付金额", "金额", "Total Amt Wtd Tax.", "Total Value",
                   "Total Cost", "Bill Amt"],
        "appointment": ["是否预约", "是否维修预约", "预约进厂", "预约标识", "预约", "appointment_flag"],
        "advisor": ["服务顾问", "维修顾问", "接待顾问", "接待员", "SA", "服务专员",
                    "Service Advisor Name", "service_advisor_name", "ServiceWriterName"],
        "deleted": ["是否删除", "删除标识", "是否作废"],
        "ro_status": ["工单状态", "维修委托状态", "单据状态", "状态", "ro_status"],
        "promised_at": ["预计交车时间", "承诺交车时间", "预出厂时间", "预计完修日", "promise_date"],
        "delivered_at": ["实际交车时间", "交车时间", "交车日期", "实际完修日", "pickup_date"],
        "declined_items": ["建议维修项目", "客户拒修项目", "未修项目", "建议项目"],
        "declined_due_date": ["建议维修日期"],
        "declined_due_km": ["建议维修里程"],
        "store": _STORE,
        # what an RO says about its vehicle and owner (a vehicle seen only in ROs)
        "customer_id": _CUSTOMER_ID,
        "customer_name": _CUSTOMER_NAME,
        "mobile": _MOBILE,
        "brand": _BRAND,
        "model": _MODEL,
        "delivery_date": ["车辆销售日期", "销售日期", "购车日期", "零售日期", "新车交付日期"],
        "registration_date": _REGISTRATION,
        "inspection_due": _INSPECTION,
        "insurance_expiry": _INSURANCE,
    },
    "ro_lines": {
        "ro_no": _RO_NO,
        "service_type": ["工段", "维修类型", "项目类型", "所属工段", "Item Category"],
        "item_name": ["项目名称", "维修项目", "维修名称", "项目", "Description", "JobTitle"],
        "amount": ["费用", "金额", "项目金额", "项目小计", "工时金额", "小计", "Net value"],
    },
}

# Fields that make a sheet belong to a table (see headers.classify).
VEHICLE_KEYS = ("vin", "plate")
REQUIRED = {
    "repair_orders": ("ro_no", "open_date", "service_type"),
    "ro_lines": ("ro_no",),
}
# Table labels for messages
TABLE_LABELS = {
    "vehicles": ("车辆档案", "vehicles"),
    "customers": ("客户档案", "customers"),
    "repair_orders": ("维修工单", "repair orders"),
    "ro_lines": ("工单明细", "RO lines"),
}
