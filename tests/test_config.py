"""Config: packaged defaults, user overrides, and errors that name the key."""

import pytest

from aftercare.config import brand_schedule, defaults, load_config, merge
from aftercare.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "aftercare.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_hold_every_spec_key():
    """The packaged file carries every key 06-config.md names, with its default."""
    cfg = defaults()
    assert cfg["schedule"]["first_service_km"] == 5000
    assert cfg["mileage"]["fleet_default_daily_km"] == 40
    assert cfg["reminders"]["insurance"] == 45
    assert cfg["churn"]["bands"] == [90, 180, 270, 365, 730]
    assert cfg["kpi"]["targets"]["maintenance_return_rate"] == 0.60
    assert cfg["calling"]["calls_per_agent_per_day"] == 60
    assert cfg["limits"]["max_rows"] == 5_000_000


def test_user_file_overrides_only_its_keys(tmp_path):
    """A user's file changes the keys it names and keeps every other default."""
    cfg = load_config(write(tmp_path, "[reminders]\nmaintenance = 14\n"))
    assert cfg["reminders"]["maintenance"] == 14
    assert cfg["reminders"]["first_service"] == 14
    assert cfg["reminders"]["insurance"] == 45


def test_unknown_key_names_the_key(tmp_path):
    """An unknown key stops with an error naming it in dotted form."""
    with pytest.raises(ConfigError, match=r"reminders\.maintenace"):
        load_config(write(tmp_path, "[reminders]\nmaintenace = 14\n"))


def test_wrong_type_names_the_key(tmp_path):
    """A value of the wrong type stops with an error naming the key and the type."""
    with pytest.raises(ConfigError, match=r"calling\.calls_per_agent_per_day.*integer"):
        load_config(write(tmp_path, '[calling]\ncalls_per_agent_per_day = "60"\n'))


def test_int_accepted_for_float_but_bool_not_for_int():
    """An integer target is a valid rate, but true is not a number of days."""
    cfg = merge(defaults(), {"kpi": {"targets": {"appointment_rate": 1}}})
    assert cfg["kpi"]["targets"]["appointment_rate"] == 1.0
    with pytest.raises(ConfigError, match="reminders.declined"):
        merge(defaults(), {"reminders": {"declined": True}})


def test_aliases_must_name_a_known_table_and_field():
    """User aliases are checked: a table or field that does not exist is named."""
    cfg = merge(defaults(), {"aliases": {"repair_orders": {"open_date": ["进站日"]}}})
    assert cfg["aliases"]["repair_orders"]["open_date"] == ["进站日"]
    with pytest.raises(ConfigError, match="aliases.repair_orders.opendate"):
        merge(defaults(), {"aliases": {"repair_orders": {"opendate": ["x"]}}})
    with pytest.raises(ConfigError, match="aliases.cars"):
        merge(defaults(), {"aliases": {"cars": {"vin": ["x"]}}})
    with pytest.raises(ConfigError, match="list of strings"):
        merge(defaults(), {"aliases": {"vehicles": {"vin": "车辆VIN"}}})


def test_brand_table_accepts_new_brands_and_models():
    """A dealer's own brand and model schedule is accepted and resolved by every spelling."""
    cfg = merge(defaults(), {"schedule": {"brands": {"理想": {
        "names": ["Li Auto"], "interval_km": 20000,
        "models": {"L9": {"interval_months": 12}}}}}})
    table = brand_schedule(cfg)
    assert table["li auto"]["interval_km"] == 20000
    assert table["理想"]["interval_months"] == 6  # default kept
    assert table["理想"]["models"]["l9"]["interval_months"] == 12
    assert table["广汽丰田"]["brand"] == "丰田"
    with pytest.raises(ConfigError, match="intervalkm"):
        merge(defaults(), {"schedule": {"brands": {"理想": {"intervalkm": 1}}}})


def test_packaged_brand_override_keeps_its_other_keys():
    """Overriding one key of a packaged brand keeps the brand's other keys."""
    cfg = merge(defaults(), {"schedule": {"brands": {"丰田": {"interval_km": 5000}}}})
    assert cfg["schedule"]["brands"]["丰田"]["interval_km"] == 5000
    assert "广汽丰田" in cfg["schedule"]["brands"]["丰田"]["names"]


def test_missing_explicit_file_and_bad_toml(tmp_path):
    """A named config file that is missing or not TOML is an error naming the file."""
    with pytest.raises(ConfigError, match="nope.toml"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="TOML"):
        load_config(write(tmp_path, "[reminders\n"))


def test_service_type_kinds_and_scripts_are_checked():
    """Extra service types must name a canonical kind; scripts a reminder kind."""
    merge(defaults(), {"service_types": {"maintenance": ["保养套餐"]}})
    with pytest.raises(ConfigError, match="service_types.servicing"):
        merge(defaults(), {"service_types": {"servicing": ["x"]}})
    with pytest.raises(ConfigError, match="scripts.hello"):
        merge(defaults(), {"scripts": {"hello": "x"}})


def test_sms_templates_per_kind():
    """[sms] has a text per reminder kind; a user's text replaces one; an unknown kind or a
    non-text value names the key."""
    cfg = merge(defaults(), {"sms": {"maintenance": "{name}您好，{plate}该保养了"}})
    assert cfg["sms"]["maintenance"] == "{name}您好，{plate}该保养了"
    assert "{plate}" in cfg["sms"]["first_service"]
    with pytest.raises(ConfigError, match="sms.oil_change"):
        merge(defaults(), {"sms": {"oil_change": "x"}})
    with pytest.raises(ConfigError, match="sms.maintenance"):
        merge(defaults(), {"sms": {"maintenance": 3}})
