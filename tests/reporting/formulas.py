"""Spreadsheet formulas typed as data (OWASP's CSV injection cases), a visit that carries them
into every export, and readers that check a CSV or XLSX file holds them as inert text."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session

from bot.reporting.export import FORMULA_STARTS
from storage import repo
from storage.models import User
from tests.reporting.dataset import at, unit

FORMULAS = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")
INERT = {"'" + f for f in FORMULAS}  # how each one must come out of an export


def formula_visit(session: Session, cadre: User, on: date = date(2026, 3, 5)) -> None:
    """A 朝阳区/双井街道 visit whose notes, whom and focus groups are each a formula (the focus
    groups become report columns and lines)."""
    repo.create_visit(
        session,
        cadre_id=cadre.id or 0,
        unit_id=unit(session, "朝阳区/双井街道").id or 0,
        on=on,
        district="朝阳区",
        street="双井街道",
        community=None,
        visit_form=None,
        whom=FORMULAS[3],
        people=1,
        focus=list(FORMULAS),
        notes=FORMULAS[0],
        primary="jobs",
        categories=["jobs"],
        help_request_id=None,
        now=at(on.year, on.month, on.day, 18),
    )


def _live(text: str) -> bool:
    """True when a spreadsheet would run this text as a formula."""
    return bool(text) and (text[0] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS)


def csv_texts(content: bytes) -> set[str]:
    """Every cell of a CSV export as read by csv.reader, after checking that none but a
    number would run as a formula."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    cells = {cell for row in rows for cell in row}
    live = [c for c in cells if _live(c) and not _is_number(c)]
    assert live == [], live
    return cells


def xlsx_texts(content: bytes) -> set[Any]:
    """Every cell value of an XLSX export, after checking that no cell is a formula and no
    text would become one."""
    book = load_workbook(io.BytesIO(content))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    live = [c.value for c in cells if isinstance(c.value, str) and _live(c.value)]
    assert live == [], live
    return {c.value for c in cells}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
