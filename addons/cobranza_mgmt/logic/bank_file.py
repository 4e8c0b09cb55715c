"""Reading bank collection files and opening portfolios (pure Python, no Odoo).

A file is read into rows of cell values: ``.xls`` through ``xlrd``, ``.xlsx`` through
``openpyxl`` (read-only, values only), ``.csv`` through the ``csv`` module with the profile's
delimiter and encoding. Then each cell is typed: amounts (decimal and thousands separators as
the profile says, numbers as Excel stored them), dates (the profile's format, or an Excel
date), references split into tokens.

Every problem raises :class:`FileProblem` with a code and the values to name (line, column);
the models turn the code into a translated message.
"""

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from decimal import Decimal, InvalidOperation

# What the first bytes say a file is.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any encrypted Office file
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx (and other zip files)

# Bounds on what one upload may make the server hold: a file past them is refused before it is parsed
# (a small .xlsx can unpack to gigabytes, or hold one string of millions of characters).
MAX_ROWS = 200_000
MAX_CELL_CHARS = 1_000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # all the parts of an .xlsx, unpacked
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024  # the one part openpyxl reads whole

REFERENCE_SEPARATORS = re.compile(r"[\s,;]+")
NOT_ALPHANUMERIC = re.compile(r"[^0-9A-Za-z]")


class FileProblem(Exception):
    """A file or a cell that cannot be read. ``code`` names the problem, ``params`` its values."""

    def __init__(self, code, **params):
        super().__init__(code, params)
        self.code = code
        self.params = params


def sniff(content):
    """'ole' (.xls or an encrypted workbook), 'zip' (.xlsx) or 'text', from the first bytes."""
    if content.startswith(OLE2_MAGIC):
        return "ole"
    if content.startswith(ZIP_MAGIC):
        return "zip"
    return "text"


def read_rows(content, file_type, delimiter=",", encoding="utf-8", limit=None):
    """The rows of the file's first sheet, each a list of cell values (str, float, datetime or None):
    the first ``limit`` rows, or all of them up to MAX_ROWS (more raises 'too_many_rows')."""
    if not content:
        raise FileProblem("empty")
    if len(content) > MAX_UNPACKED_BYTES:
        raise FileProblem("too_large", limit=MAX_UNPACKED_BYTES // (1024 * 1024))
    rows = []
    for row in _iter_rows(content, file_type, delimiter, encoding):
        if limit is not None and len(rows) >= limit:
            break
        if len(rows) >= MAX_ROWS:
            raise FileProblem("too_many_rows", limit=MAX_ROWS)
        for index, value in enumerate(row):
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                raise FileProblem("cell_too_long", line=len(rows) + 1, column=index + 1, limit=MAX_CELL_CHARS)
        rows.append(row)
    return rows


def _iter_rows(content, file_type, delimiter, encoding):
    kind = sniff(content)
    if file_type == "xls":
        if kind == "zip":
            raise FileProblem("xlsx_as_xls")
        if kind != "ole":
            raise FileProblem("not_excel", expected=".xls")
        return _read_xls(content)
    if file_type == "xlsx":
        if kind == "ole":
            raise FileProblem("xls_or_encrypted")
        if kind != "zip":
            raise FileProblem("not_excel", expected=".xlsx")
        return _read_xlsx(content)
    if kind != "text":
        raise FileProblem("excel_as_csv")
    return _read_csv(content, delimiter, encoding)


def _damaged(error):
    return FileProblem("corrupt", detail=str(error) or type(error).__name__)


def _read_xls(content):
    """Rows of an .xls workbook. xlrd raises whatever the broken bytes lead it to (IndexError,
    struct.error, AssertionError...): every one of them means a damaged file."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=content, on_demand=True)
        sheet = book.sheet_by_index(0)
        if sheet.nrows > MAX_ROWS:
            raise FileProblem("too_many_rows", limit=MAX_ROWS)
    except FileProblem:
        raise
    except xlrd.XLRDError as error:
        if "encrypted" in str(error).lower():
            raise FileProblem("encrypted") from error
        raise _damaged(error) from error
    except Exception as error:
        raise _damaged(error) from error
    for index in range(sheet.nrows):
        row = []
        try:
            cells = sheet.row(index)
            for cell in cells:
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(None)
                elif cell.ctype == xlrd.XL_CELL_ERROR:
                    row.append("#ERROR")
                else:
                    row.append(cell.value)
        except Exception as error:
            raise _damaged(error) from error
        yield row


def _check_xlsx_parts(content):
    """Refuse an .xlsx that unpacks past the bounds, or whose XML declares entities (a DOCTYPE:
    what 'billion laughs' bombs use; Excel never writes one)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
        if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
            raise FileProblem("too_large", limit=MAX_UNPACKED_BYTES // (1024 * 1024))
        for member in members:
            if member.filename.lower().endswith("sharedstrings.xml") and member.file_size > MAX_SHARED_STRINGS_BYTES:
                raise FileProblem("too_large", limit=MAX_SHARED_STRINGS_BYTES // (1024 * 1024))
            if member.filename.lower().endswith((".xml", ".rels")):
                with archive.open(member) as part:
                    start = part.read(2048)
                if b"<!DOCTYPE" in start.upper() or b"<!ENTITY" in start.upper():
                    raise FileProblem("corrupt", detail="DOCTYPE")
    except FileProblem:
        raise
    except Exception as error:
        raise _damaged(error) from error


def _read_xlsx(content):
    """Rows of an .xlsx workbook, streamed (openpyxl read-only). Any error of the reader, XML ones
    included, means a damaged file."""
    import openpyxl

    _check_xlsx_parts(content)
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise _damaged(error) from error
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except Exception as error:
                raise _damaged(error) from error
            yield list(row)
    finally:
        book.close()


def _read_csv(content, delimiter, encoding):
    try:
        text = content.decode(encoding or "utf-8")
    except (UnicodeDecodeError, LookupError) as error:
        raise FileProblem("encoding", encoding=encoding) from error
    if text.startswith("\ufeff"):  # the byte order mark spreadsheets write at the start of UTF-8
        text = text[1:]
    reader = csv.reader(io.StringIO(text), delimiter=delimiter or ",")
    try:
        yield from reader
    except csv.Error as error:
        raise FileProblem("corrupt", detail=str(error)) from error


def normalize_header(value):
    """A header as compared: no accents, no case, single spaces ('Fecha  de Pago' = 'fecha de pago')."""
    text = unicodedata.normalize("NFKD", str(value or ""))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.lower().split())


def column_indexes(header, wanted):
    """{key: column index} for ``wanted`` {key: header label}; a label not in ``header`` raises
    'missing_column' naming it (the first one missing, in the order given)."""
    positions = {}
    for index, value in enumerate(header):
        positions.setdefault(normalize_header(value), index)
    indexes = {}
    for key, label in wanted.items():
        if not label:
            continue
        index = positions.get(normalize_header(label))
        if index is None:
            raise FileProblem("missing_column", column=label)
        indexes[key] = index
    return indexes


def is_blank(row):
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in row)


def cell(row, index):
    return row[index] if index is not None and index < len(row) else None


def parse_text(value):
    """A reference, tax id or name as text ('' for an empty cell; 12345.0 from Excel is '12345')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_amount(value, decimal_separator=".", thousands_separator=""):
    """An amount as Decimal: numbers as stored, text with the profile's separators. ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("empty")
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    for symbol in ("$", "€", "US$", "S/", "Bs", "Q"):
        text = text.removeprefix(symbol)
    if thousands_separator:
        text = text.replace(thousands_separator, "")
    if decimal_separator and decimal_separator != ".":
        if "." in text and not thousands_separator:
            raise ValueError(value)
        text = text.replace(decimal_separator, ".")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", text):
        raise ValueError(value)
    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(value) from error
    return -amount if negative else amount


def parse_date(value, date_format="%Y-%m-%d"):
    """A date: an Excel date as stored, text in ``date_format``. ValueError otherwise."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = parse_text(value)
    if not text:
        raise ValueError("empty")
    return datetime.datetime.strptime(text, date_format or "%Y-%m-%d").date()


def reference_tokens(text):
    """The invoice numbers or payment references a payer wrote, in order, without repeats."""
    tokens = []
    for part in REFERENCE_SEPARATORS.split(text or ""):
        token = part.strip().upper()
        if token and token not in tokens:
            tokens.append(token)
    return tokens


def normalize_tax_id(value):
    """A tax id as compared: letters and digits only, upper case ('900.123.456-7' = '9001234567')."""
    return NOT_ALPHANUMERIC.sub("", parse_text(value)).upper()


def allocate(amount, residuals):
    """Spread ``amount`` over ``residuals`` (in the order given, oldest due first): the part
    applied to each, and what is left over (an unapplied credit). Decimals in, Decimals out."""
    applied = []
    left = amount
    for residual in residuals:
        part = min(left, residual) if left > 0 else Decimal(0)
        applied.append(part)
        left -= part
    return applied, left
