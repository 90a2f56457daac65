"""Printable documents made on the server: PDF reports with Vietnamese text, shared by every module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ioc.core.errors import ServiceUnavailable

# The fonts are copied from the pinned npm package by scripts/build_assets.py; PDF core fonts lack Vietnamese glyphs.
FONT_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "vendor" / "fonts"
FONT = "DejaVu"


class ReportPdf(FPDF):
    """An A4 report: title block on the first page, page numbers and generation time in every footer."""

    def __init__(self, title: str, *, subtitle: str = "", generated_at: datetime, landscape: bool = False) -> None:
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
        if not regular.is_file() or not bold.is_file():
            raise ServiceUnavailable(
                "Thiếu phông chữ để tạo PDF; hãy chạy lại bước cài đặt (make install).",
                "The PDF fonts are missing; run the install step again (make install).",
            )
        self.add_font(FONT, "", str(regular))
        self.add_font(FONT, "B", str(bold))
        self.report_title = title
        self.generated_at = generated_at
        self.set_title(title)
        self.set_creator("ioc")
        self.set_auto_page_break(auto=True, margin=15)
        self.alias_nb_pages()
        self.add_page()
        self.set_font(FONT, "B", 15)
        self.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self.set_font(FONT, "", 10)
            self.multi_cell(0, 6, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)
        self.set_font(FONT, "", 9)

    def footer(self) -> None:
        """Page x/y on the right, the generation time on the left."""
        self.set_y(-12)
        self.set_font(FONT, "", 7)
        self.cell(0, 5, self.generated_at.strftime("%d/%m/%Y %H:%M"), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")

    def heading(self, text: str) -> None:
        """A section heading."""
        self.ln(2)
        self.set_font(FONT, "B", 11)
        self.multi_cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 9)

    def paragraph(self, text: str) -> None:
        """Running text that wraps."""
        self.set_font(FONT, "", 9)
        self.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def key_values(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Label: value lines, labels in bold."""
        for label, value in pairs:
            self.set_font(FONT, "B", 9)
            self.cell(55, 5, label)
            self.set_font(FONT, "", 9)
            self.multi_cell(0, 5, value or "—", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def data_table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """A table with a bold, shaded header row repeated on each page."""
        self.set_font(FONT, "", 8)
        with self.table(
            headings_style=_heading_style(),
            line_height=5,
            text_align="LEFT",
            first_row_as_headings=True,
        ) as table:
            header = table.row()
            for title in headers:
                header.cell(title)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell("" if value is None else str(value))

    def to_bytes(self) -> bytes:
        """The finished document."""
        return bytes(self.output())


def _heading_style() -> object:
    from fpdf.fonts import FontFace

    return FontFace(family=FONT, emphasis="BOLD", fill_color=(226, 232, 240))
