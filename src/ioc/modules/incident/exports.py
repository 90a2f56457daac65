"""The after-action report of an incident (báo cáo sau sự cố) as PDF, Word and Excel.

All three carry the same sections: the incident, its timeline, the tasks with on-time or late, the
command log, the procedure checklist and the closing summary. Times are shown in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from docx import Document
from openpyxl import Workbook
from openpyxl.styles import Font

from ioc.core.documents import ReportPdf
from ioc.core.time import to_local

from .constants import LogKind
from .schemas import IncidentRead, TaskRead
from .service import type_label

DATE_FORMAT = "%d/%m/%Y %H:%M"
# Cells starting with these characters are formulas to spreadsheet programs (CSV/Excel injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

LABELS: dict[str, tuple[str, str]] = {
    "title": ("Báo cáo sau sự cố", "After-action report"),
    "incident": ("Thông tin sự cố", "Incident"),
    "code": ("Mã sự cố", "Code"),
    "name": ("Tên sự cố", "Title"),
    "type": ("Loại", "Type"),
    "severity": ("Mức độ", "Severity"),
    "status": ("Trạng thái", "Status"),
    "unit": ("Đơn vị hành chính", "Administrative unit"),
    "address": ("Địa điểm", "Place"),
    "commander": ("Chỉ huy", "Commander"),
    "opened": ("Mở lúc", "Opened"),
    "closed": ("Kết thúc lúc", "Closed"),
    "links": ("Cảnh báo, phản ánh liên quan", "Linked alarms and reports"),
    "timeline": ("Diễn biến", "Timeline"),
    "tasks": ("Nhiệm vụ", "Tasks"),
    "log": ("Nhật ký chỉ huy", "Command log"),
    "checklist": ("Quy trình ứng phó", "Response procedure"),
    "summary": ("Tóm tắt kết thúc", "Closing summary"),
    "time": ("Thời gian", "Time"),
    "author": ("Người ghi", "By"),
    "kind": ("Loại", "Kind"),
    "text": ("Nội dung", "Text"),
    "agency": ("Cơ quan", "Agency"),
    "task": ("Nhiệm vụ", "Task"),
    "due": ("Hạn", "Deadline"),
    "done": ("Hoàn thành", "Finished"),
    "on_time": ("Đúng hạn", "On time"),
    "result": ("Kết quả", "Result"),
    "step": ("Bước", "Step"),
    "ticked": ("Đã làm", "Done"),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "late": ("Trễ hạn", "Late"),
    "open": ("Chưa xong", "Open"),
    "cancelled": ("Đã huỷ", "Cancelled"),
    "none": ("—", "—"),
}
KIND_LABELS: dict[str, tuple[str, str]] = {
    LogKind.ORDER: ("Chỉ đạo", "Order"),
    LogKind.DECISION: ("Quyết định", "Decision"),
    LogKind.REPORT: ("Báo cáo", "Report"),
    LogKind.SYSTEM: ("Hệ thống", "System"),
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "open": ("Mới mở", "Open"),
    "responding": ("Đang ứng phó", "Responding"),
    "closed": ("Đã kết thúc", "Closed"),
}
SEVERITY_LABELS: dict[str, tuple[str, str]] = {
    "critical": ("Nghiêm trọng", "Critical"),
    "major": ("Lớn", "Major"),
    "minor": ("Nhỏ", "Minor"),
}


@dataclass(frozen=True)
class AfterAction:
    """The report's content in one language, ready to be written in any format."""

    title: str
    facts: list[tuple[str, str]]
    sections: list[tuple[str, list[str], list[list[str]]]]  # heading, column titles, rows
    summary_heading: str
    summary: str


def _t(key: str, lang: str) -> str:
    vi, en = LABELS[key]
    return en if lang == "en" else vi


def _pick(pair: tuple[str, str] | None, fallback: str, lang: str) -> str:
    if pair is None:
        return fallback
    return pair[1] if lang == "en" else pair[0]


def _when(value: datetime | None) -> str:
    return to_local(value).strftime(DATE_FORMAT) if value else "—"


def _task_outcome(task: TaskRead, lang: str) -> str:
    if task.status == "cancelled":
        return _t("cancelled", lang)
    if task.on_time is None:
        return _t("late", lang) + " (" + _t("open", lang).lower() + ")" if task.overdue else _t("open", lang)
    return _t("yes", lang) if task.on_time else _t("late", lang)


def build(incident: IncidentRead, lang: str) -> AfterAction:
    """Gather the after-action report of an incident in a language."""
    facts = [
        (_t("code", lang), incident.code),
        (_t("name", lang), incident.title),
        (_t("type", lang), type_label(incident.incident_type, lang)),
        (_t("severity", lang), _pick(SEVERITY_LABELS.get(incident.severity), incident.severity, lang)),
        (_t("status", lang), _pick(STATUS_LABELS.get(incident.status), incident.status, lang)),
        (_t("unit", lang), incident.unit_code or "—"),
        (_t("address", lang), incident.address or "—"),
        (_t("commander", lang), incident.commander_name or "—"),
        (_t("opened", lang), _when(incident.opened_at)),
        (_t("closed", lang), _when(incident.closed_at)),
        (_t("links", lang), "; ".join(link.label for link in incident.links) or "—"),
    ]
    timeline = [[_when(e.at), e.text] for e in incident.log if e.kind is LogKind.SYSTEM]
    tasks = [
        [
            t.agency_name,
            t.title,
            _when(t.due_at),
            _when(t.completed_at),
            _task_outcome(t, lang),
            t.result or "—",
        ]
        for t in incident.tasks
    ]
    command_log = [
        [_when(e.at), _pick(KIND_LABELS.get(e.kind), e.kind, lang), e.author_name, e.text]
        for e in incident.log
        if e.kind is not LogKind.SYSTEM
    ]
    checklist = [
        [
            str(item.position),
            item.text_en if lang == "en" else item.text_vi,
            _t("yes", lang) if item.done_at else _t("no", lang),
            f"{_when(item.done_at)} · {item.done_by}" if item.done_at else "—",
        ]
        for item in incident.checklist
    ]
    sections = [
        (_t("timeline", lang), [_t("time", lang), _t("text", lang)], timeline),
        (
            _t("tasks", lang),
            [
                _t("agency", lang),
                _t("task", lang),
                _t("due", lang),
                _t("done", lang),
                _t("on_time", lang),
                _t("result", lang),
            ],
            tasks,
        ),
        (_t("log", lang), [_t("time", lang), _t("kind", lang), _t("author", lang), _t("text", lang)], command_log),
        (
            _t("checklist", lang),
            [_t("step", lang), _t("text", lang), _t("ticked", lang), _t("author", lang)],
            checklist,
        ),
    ]
    return AfterAction(
        title=f"{_t('title', lang)} {incident.code}",
        facts=facts,
        sections=sections,
        summary_heading=_t("summary", lang),
        summary=incident.closing_summary or "—",
    )


def to_pdf(report: AfterAction, generated_at: datetime) -> bytes:
    """Return the report as an A4 PDF (landscape, for the wide task table)."""
    pdf = ReportPdf(report.title, subtitle=report.facts[1][1], generated_at=to_local(generated_at), landscape=True)
    pdf.key_values(report.facts)
    for heading, columns, rows in report.sections:
        pdf.heading(heading)
        if rows:
            pdf.data_table(columns, rows)
        else:
            pdf.paragraph("—")
    pdf.heading(report.summary_heading)
    pdf.paragraph(report.summary)
    return pdf.to_bytes()


def to_docx(report: AfterAction) -> bytes:
    """Return the report as a Word document."""
    document = Document()
    document.add_heading(report.title, level=0)
    facts = document.add_table(rows=0, cols=2)
    facts.style = "Table Grid"
    for label, value in report.facts:
        cells = facts.add_row().cells
        cells[0].text = label
        cells[1].text = value
    for heading, columns, rows in report.sections:
        document.add_heading(heading, level=1)
        if not rows:
            document.add_paragraph("—")
            continue
        table = document.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        for cell, title in zip(table.rows[0].cells, columns, strict=True):
            cell.text = title
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for values in rows:
            for cell, value in zip(table.add_row().cells, values, strict=True):
                cell.text = value
    document.add_heading(report.summary_heading, level=1)
    document.add_paragraph(report.summary)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def to_xlsx(report: AfterAction) -> bytes:
    """Return the report as an Excel workbook: the facts on one sheet, each section on its own."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = report.title[:31].replace("/", "-")
    for label, value in report.facts:
        sheet.append([label, _safe(value)])
    sheet.append([])
    sheet.append([report.summary_heading, _safe(report.summary)])
    for column in sheet["A"]:
        column.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 80
    for heading, columns, rows in report.sections:
        part = workbook.create_sheet(heading[:31])
        part.append(columns)
        for cell in part[1]:
            cell.font = Font(bold=True)
        for values in rows:
            part.append([_safe(v) for v in values])
        part.freeze_panes = "A2"
        for index in range(len(columns)):
            part.column_dimensions[chr(ord("A") + index)].width = 60 if columns[index] in (columns[-1],) else 20
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
