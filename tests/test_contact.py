"""When a customer may be contacted (addons/cobranza_mgmt/logic/contact.py), without Odoo."""
import importlib.util
from datetime import datetime
from pathlib import Path

import pytz

_PATH = Path(__file__).resolve().parent.parent / "addons" / "cobranza_mgmt" / "logic" / "contact.py"
_SPEC = importlib.util.spec_from_file_location("cobranza_contact", _PATH)
contact = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(contact)

BOGOTA = pytz.timezone("America/Bogota")
WEEKDAYS = [True] * 5 + [False] * 2


def at(*args):
    return BOGOTA.localize(datetime(*args))


def test_inside_the_window_is_now():
    assert contact.window_start(at(2026, 11, 23, 10, 15), WEEKDAYS, 9.0, 12.0) == at(2026, 11, 23, 10, 15)


def test_before_the_hours_waits_for_the_start():
    assert contact.window_start(at(2026, 11, 23, 7, 0), WEEKDAYS, 9.0, 12.0) == at(2026, 11, 23, 9, 0)


def test_after_the_hours_waits_for_the_next_allowed_day():
    # Friday evening -> Monday 09:00 (weekend not allowed)
    assert contact.window_start(at(2026, 11, 27, 18, 0), WEEKDAYS, 9.0, 12.0) == at(2026, 11, 30, 9, 0)


def test_any_time_on_allowed_days():
    assert contact.window_start(at(2026, 11, 28, 18, 0), WEEKDAYS, 0.0, 0.0) == at(2026, 11, 30, 0, 0)
    assert contact.window_start(at(2026, 11, 28, 18, 0), [True] * 7, 0.0, 0.0) == at(2026, 11, 28, 18, 0)


def test_no_day_allowed_gives_none():
    assert contact.window_start(at(2026, 11, 23, 10, 0), [False] * 7, 9.0, 12.0) is None


def test_hours_validity_and_labels():
    assert contact.hours_are_valid(0, 0)
    assert contact.hours_are_valid(9, 17.5)
    assert not contact.hours_are_valid(18, 9)
    assert not contact.hours_are_valid(10, 10)
    assert not contact.hours_are_valid(8, 25)
    assert contact.hour_label(17.5) == "17:30"
    assert contact.hour_label(9.0) == "09:00"
