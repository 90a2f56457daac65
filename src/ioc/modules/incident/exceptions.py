"""Errors of the incident module, each with its HTTP status and a Vietnamese and English message."""

from __future__ import annotations

from ioc.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class IncidentNotFound(NotFound):
    """No incident has this id."""

    code = "incident_not_found"

    def __init__(self, incident_id: int) -> None:
        super().__init__(
            f"Không tìm thấy sự cố số {incident_id}.", f"Incident {incident_id} does not exist.", id=incident_id
        )


class TaskNotFound(NotFound):
    """No task has this id."""

    code = "incident_task_not_found"

    def __init__(self, task_id: int) -> None:
        super().__init__(f"Không tìm thấy nhiệm vụ số {task_id}.", f"Task {task_id} does not exist.", id=task_id)


class ChecklistItemNotFound(NotFound):
    """The incident has no checklist item with this id."""

    code = "incident_checklist_item_not_found"

    def __init__(self, item_id: int) -> None:
        super().__init__(
            f"Không tìm thấy bước số {item_id} trong danh mục kiểm tra.",
            f"Checklist item {item_id} does not exist.",
            id=item_id,
        )


class UnknownAgency(ValidationFailed):
    """The agency chosen for a task does not exist or is inactive."""

    code = "incident_unknown_agency"

    def __init__(self, agency_code: str) -> None:
        super().__init__(
            f"Không có cơ quan mã {agency_code!r} đang hoạt động.",
            f"There is no active agency with code {agency_code!r}.",
            agency_code=agency_code,
        )


class UnknownPerson(ValidationFailed):
    """A person named on a task is not an active staff member (or, as assignee, not of the task's agency)."""

    code = "incident_unknown_person"

    def __init__(self, user_id: int, *, agency_name: str | None = None) -> None:
        if agency_name:
            vi = f"Người dùng số {user_id} không phải cán bộ đang hoạt động của {agency_name}."
            en = f"User {user_id} is not an active staff member of {agency_name}."
        else:
            vi = f"Người dùng số {user_id} không phải cán bộ đang hoạt động."
            en = f"User {user_id} is not an active staff member."
        super().__init__(vi, en, user_id=user_id)


class UnknownUnit(ValidationFailed):
    """The administrative unit given for an incident does not exist."""

    code = "incident_unknown_unit"

    def __init__(self, unit_code: str) -> None:
        super().__init__(
            f"Không có đơn vị hành chính mã {unit_code!r}.",
            f"There is no administrative unit with code {unit_code!r}.",
            unit_code=unit_code,
        )


class LinkedRecordNotFound(ValidationFailed):
    """The alarm or citizen report to link does not exist."""

    code = "incident_linked_record_not_found"

    def __init__(self, kind: str, ref_id: int) -> None:
        names = {"alarm": ("cảnh báo", "alarm"), "citizen_report": ("phản ánh", "citizen report")}
        vi, en = names.get(kind, (kind, kind))
        super().__init__(f"Không tìm thấy {vi} số {ref_id}.", f"The {en} {ref_id} does not exist.", ref_id=ref_id)


class IncidentAlreadyClosed(Conflict):
    """The incident is closed; nothing can be added to it."""

    code = "incident_closed"

    def __init__(self, incident_id: int) -> None:
        super().__init__(
            f"Sự cố số {incident_id} đã kết thúc, không thể thay đổi.",
            f"Incident {incident_id} is closed and cannot be changed.",
            id=incident_id,
        )


class OpenTasksRemain(Conflict):
    """An incident cannot close while tasks are still open."""

    code = "incident_open_tasks_remain"

    def __init__(self, count: int) -> None:
        super().__init__(
            f"Còn {count} nhiệm vụ chưa hoàn thành; hãy hoàn thành hoặc huỷ trước khi kết thúc sự cố.",
            f"{count} task(s) are still open; finish or cancel them before closing the incident.",
            count=count,
        )


class InvalidTaskTransition(Conflict):
    """The task cannot move to the requested status from where it is."""

    code = "incident_invalid_task_transition"

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(
            f"Không thể chuyển nhiệm vụ từ trạng thái {from_status!r} sang {to_status!r}.",
            f"A task cannot go from {from_status!r} to {to_status!r}.",
            from_status=from_status,
            to_status=to_status,
        )


class ResultRequired(ValidationFailed):
    """A task is finished with a result."""

    code = "incident_result_required"

    def __init__(self) -> None:
        super().__init__("Hãy nhập kết quả thực hiện nhiệm vụ.", "Enter the result of the task.")


class NotTaskAgency(Forbidden):
    """Only staff of the agency that received a task may act on it."""

    code = "incident_not_task_agency"

    def __init__(self) -> None:
        super().__init__("Nhiệm vụ này được giao cho cơ quan khác.", "This task was given to another agency.")


class NotAgencyHead(Forbidden):
    """Only the head of the task's agency (or the command) may give a task to another of its people."""

    code = "incident_not_agency_head"

    def __init__(self) -> None:
        super().__init__(
            "Chỉ lãnh đạo cơ quan được giao nhiệm vụ hoặc chỉ huy sự cố mới giao lại được nhiệm vụ này.",
            "Only the head of the task's agency or the incident command may reassign this task.",
        )


class InformedChangeRefused(Forbidden):
    """Only the head of the task's agency (or the command) may change who is kept informed of a task."""

    code = "incident_informed_not_allowed"

    def __init__(self) -> None:
        super().__init__(
            "Chỉ lãnh đạo cơ quan được giao nhiệm vụ hoặc chỉ huy sự cố mới thay đổi được người được báo tin.",
            "Only the head of the task's agency or the incident command may change who is kept informed.",
        )


class TaskNotOpen(Conflict):
    """A finished or cancelled task cannot be given to someone else, nor change who is kept informed."""

    code = "incident_task_not_open"

    def __init__(self, task_id: int, status: str, *, changing: str = "assignee") -> None:
        if changing == "informed":
            vi = f"Nhiệm vụ số {task_id} đã kết thúc ({status}), không thay đổi người được báo tin được."
            en = f"Task {task_id} is finished ({status}); who is kept informed cannot change."
        else:
            vi = f"Nhiệm vụ số {task_id} đã kết thúc ({status}), không giao lại được."
            en = f"Task {task_id} is finished ({status}) and cannot be reassigned."
        super().__init__(vi, en, id=task_id, status=status)


class NothingToReassign(ValidationFailed):
    """A reassignment names neither another person nor another agency."""

    code = "incident_nothing_to_reassign"

    def __init__(self) -> None:
        super().__init__(
            "Hãy chọn người thực hiện mới (hoặc cơ quan khác) cho nhiệm vụ.",
            "Choose the new person (or another agency) for the task.",
        )


class CommandLogImmutable(Conflict):
    """Code tried to change or delete a command log entry; the log is append-only."""

    code = "incident_log_immutable"

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Nhật ký chỉ huy chỉ được ghi thêm, không được sửa hay xoá ({detail}).",
            f"The command log is append-only: entries cannot be changed or deleted ({detail}).",
        )
