"""Reading bank collection files: pure logic, no database."""
import datetime
from decimal import Decimal

import pytest

from odoo.addons.cobranza_mgmt.logic import bank_file
from odoo.addons.cobranza_mgmt.tests.common import xls_file as xls_bytes
from odoo.addons.cobranza_mgmt.tests.common import xlsx_file as xlsx_bytes

ROWS = [["Fecha", "Valor", "Referencia"], [datetime.date(2026, 11, 2), 1500.5, "FAC-1"], ["03/11/2026", "1.234,56", 77]]


def test_xls_rows_and_excel_dates():
    rows = bank_file.read_rows(xls_bytes(ROWS), "xls")
    assert rows[0] == ["Fecha", "Valor", "Referencia"]
    assert rows[1][0] == datetime.datetime(2026, 11, 2)
    assert rows[1][1] == 1500.5
    assert bank_file.parse_text(rows[2][2]) == "77"  # Excel stores 77 as 77.0


def test_xlsx_rows():
    rows = bank_file.read_rows(xlsx_bytes(ROWS), "xlsx")
    assert rows[1][2] == "FAC-1"
    assert bank_file.parse_date(rows[1][0]) == datetime.date(2026, 11, 2)


def test_csv_rows_with_delimiter_encoding_and_bom():
    content = "\ufefffecha;valor\n2026-11-02;10,5\n".encode("utf-8")
    assert bank_file.read_rows(content, "csv", ";", "utf-8") == [["fecha", "valor"], ["2026-11-02", "10,5"]]
    latin = "nombre\nJosé Núñez\n".encode("cp1252")
    assert bank_file.read_rows(latin, "csv", ",", "cp1252")[1] == ["José Núñez"]


@pytest.mark.parametrize(("content", "file_type", "code"), [
    (b"", "csv", "empty"),
    (xlsx_bytes(ROWS), "xls", "xlsx_as_xls"),
    (xls_bytes(ROWS), "xlsx", "xls_or_encrypted"),
    (b"fecha,valor\n", "xls", "not_excel"),
    (xls_bytes(ROWS), "csv", "excel_as_csv"),
    (bank_file.OLE2_MAGIC + b"\x00" * 600, "xls", "corrupt"),
    (bank_file.ZIP_MAGIC + b"\x00" * 100, "xlsx", "corrupt"),
    ("fecha\nJosé\n".encode("cp1252"), "csv", "encoding"),
])
def test_files_that_cannot_be_read(content, file_type, code):
    with pytest.raises(bank_file.FileProblem) as problem:
        bank_file.read_rows(content, file_type, ",", "utf-8")
    assert problem.value.code == code


def test_encrypted_xls_is_named():
    content = bytearray(xls_bytes(ROWS))
    # The MMS record (0x00C1, 2 bytes) turned into FILEPASS (0x002F): what Excel writes when a password is set.
    index = content.index(b"\xc1\x00\x02\x00")
    content[index:index + 2] = b"\x2f\x00"
    with pytest.raises(bank_file.FileProblem) as problem:
        bank_file.read_rows(bytes(content), "xls")
    assert problem.value.code == "encrypted"


def test_columns_by_header_without_accents_or_case():
    header = ["Número de transacción", " FECHA de pago ", "Valor"]
    assert bank_file.column_indexes(header, {"bank_ref": "numero de transaccion", "date": "Fecha de Pago"}) == {
        "bank_ref": 0, "date": 1}
    with pytest.raises(bank_file.FileProblem) as problem:
        bank_file.column_indexes(header, {"amount": "Valor", "tax_id": "NIT"})
    assert problem.value.code == "missing_column" and problem.value.params == {"column": "NIT"}


@pytest.mark.parametrize(("value", "decimal", "thousands", "expected"), [
    (1500.5, ".", "", Decimal("1500.5")),
    (1500, ".", "", Decimal(1500)),
    ("1234.56", ".", "", Decimal("1234.56")),
    ("1.234,56", ",", ".", Decimal("1234.56")),
    ("1,234.56", ".", ",", Decimal("1234.56")),
    ("1 234,56", ",", " ", Decimal("1234.56")),
    ("$ 99,90", ",", "", Decimal("99.90")),
    ("(50.00)", ".", "", Decimal("-50.00")),
    ("-12", ".", "", Decimal(-12)),
])
def test_amounts(value, decimal, thousands, expected):
    assert bank_file.parse_amount(value, decimal, thousands) == expected


@pytest.mark.parametrize("value", ["abc", "", None, "12,5,1", "1.234,56", True])
def test_text_is_not_an_amount(value):
    with pytest.raises(ValueError):
        bank_file.parse_amount(value, ",", "")


def test_dates():
    assert bank_file.parse_date("31/12/2026", "%d/%m/%Y") == datetime.date(2026, 12, 31)
    assert bank_file.parse_date(datetime.datetime(2026, 1, 2, 10, 0)) == datetime.date(2026, 1, 2)
    for value in ("31/02/2026", "2026-12-31", "", None):
        with pytest.raises(ValueError):
            bank_file.parse_date(value, "%d/%m/%Y")


def test_reference_tokens_and_tax_ids():
    assert bank_file.reference_tokens(" inv/2026/0001, INV/2026/0002;inv/2026/0001 ") == [
        "INV/2026/0001", "INV/2026/0002"]
    assert bank_file.normalize_tax_id("900.123.456-7") == bank_file.normalize_tax_id("9001234567") == "9001234567"
    assert bank_file.normalize_tax_id(9001234567.0) == "9001234567"


def test_allocation_oldest_first_and_left_over():
    applied, left = bank_file.allocate(Decimal(250), [Decimal(100), Decimal(100)])
    assert applied == [Decimal(100), Decimal(100)] and left == Decimal(50)
    applied, left = bank_file.allocate(Decimal(150), [Decimal(100), Decimal(100)])
    assert applied == [Decimal(100), Decimal(50)] and left == 0
