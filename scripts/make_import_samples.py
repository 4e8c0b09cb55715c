#!/usr/bin/env python3
"""Write the sample bank collection files of the ready import profiles (addons/cobranza_mgmt/tests/data).

    .venv/bin/python scripts/make_import_samples.py

Each file is what the profile of the same shape reads: test_bank_import.TestSampleFiles imports
them against invoices FAC-1001, FAC-1002 and FAC-1003 of two customers (tax ids 900.123.456-7
and 800.765.432-1). Run again only to change them; the files are committed.
"""
import csv
import datetime
import io
from pathlib import Path

import openpyxl
import xlwt

DATA = Path(__file__).resolve().parent.parent / "addons" / "cobranza_mgmt" / "tests" / "data"

PAYMENTS = [
    # date, amount, reference, tax id, bank reference, payer
    (datetime.date(2026, 11, 2), 1000.0, "FAC-1001", "900.123.456-7", "TRX-0001", "Comercializadora Andina S.A.S."),
    (datetime.date(2026, 11, 2), 250.5, "FAC-1002", "900.123.456-7", "TRX-0002", "Comercializadora Andina S.A.S."),
    (datetime.date(2026, 11, 3), 1234.56, "", "800.765.432-1", "TRX-0003", "Distribuidora del Pacífico Ltda."),
]


def generic_csv():
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["date", "amount", "reference", "tax_id", "bank_reference", "currency", "payer"])
    for day, amount, reference, tax_id, bank_ref, payer in PAYMENTS:
        writer.writerow([day.isoformat(), f"{amount:.2f}", reference, tax_id, bank_ref, "", payer])
    (DATA / "recaudo_generico.csv").write_text(stream.getvalue(), encoding="utf-8")


def recaudo_xls():
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Recaudo")
    sheet.write(0, 0, "BANCO EJEMPLO - REPORTE DE RECAUDO")
    sheet.write(1, 0, "Convenio 12345 - Fecha de corte 03/11/2026")
    header = ["Fecha de pago", "Valor recaudado", "Referencia de pago", "NIT / Documento", "Número de transacción",
              "Nombre del pagador"]
    for column, label in enumerate(header):
        sheet.write(2, column, label)
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for row, (day, amount, reference, tax_id, bank_ref, payer) in enumerate(PAYMENTS, start=3):
        sheet.write(row, 0, day, date_style)
        sheet.write(row, 1, amount)
        sheet.write(row, 2, reference)
        sheet.write(row, 3, tax_id)
        sheet.write(row, 4, bank_ref)
        sheet.write(row, 5, payer)
    book.save(str(DATA / "reporte_recaudo.xls"))


def movimientos_xlsx():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Movimientos"
    sheet.append(["Fecha", "Importe", "Concepto", "RFC / CUIT / RUT", "Referencia bancaria", "Moneda", "Ordenante"])
    for day, amount, reference, tax_id, bank_ref, payer in PAYMENTS:
        text = f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")  # 1.234,56
        sheet.append([day.strftime("%d/%m/%Y"), text, reference, tax_id, bank_ref, "", payer])
    book.save(DATA / "movimientos_cuenta.xlsx")


if __name__ == "__main__":
    DATA.mkdir(parents=True, exist_ok=True)
    generic_csv()
    recaudo_xls()
    movimientos_xlsx()
    print(f"written to {DATA}")
