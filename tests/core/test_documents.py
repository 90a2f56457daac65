"""PDF reports carry Vietnamese text intact and number their pages."""

from __future__ import annotations

from datetime import datetime

from ioc.core.documents import ReportPdf
from ioc.core.time import PROVINCE_TZ


def test_pdf_report_with_vietnamese_table_spans_pages() -> None:
    pdf = ReportPdf(
        "Báo cáo quan trắc môi trường",
        subtitle="Trạm Thành phố Tây Ninh",
        generated_at=datetime(2026, 11, 26, 8, 30, tzinfo=PROVINCE_TZ),
    )
    pdf.heading("Chỉ số chất lượng không khí")
    pdf.key_values([("Trạm", "Hòa Thành"), ("Thời gian", "")])
    pdf.data_table(["Giờ", "PM2.5 (µg/m³)", "VN_AQI"], [[f"{h:02d}:00", 12.5 + h, 40 + h] for h in range(120)])
    data = pdf.to_bytes()
    assert data.startswith(b"%PDF-")
    assert pdf.page_no() >= 2
    # The text is set in the embedded Unicode font; core PDF fonts would have refused the Vietnamese letters.
    assert b"DejaVu" in data
    assert pdf.title == "Báo cáo quan trắc môi trường"
    assert len(data) > 5_000
