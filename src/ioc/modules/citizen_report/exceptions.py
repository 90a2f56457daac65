"""Errors of the citizen_report module, with Vietnamese and English messages."""

from __future__ import annotations

from ioc.core.errors import Conflict, Forbidden, NotFound, TooManyRequests, ValidationFailed

from .constants import MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS, MAX_PHOTOS, ReportStatus, status_label


class ReportNotFound(NotFound):
    """No report has this id or tracking code (or the caller may not see it)."""

    code = "citizen_report_not_found"

    def __init__(self, reference: str | int) -> None:
        super().__init__(
            f"Không tìm thấy phản ánh {reference}.",
            f"No citizen report {reference}.",
            reference=str(reference),
        )


class CategoryNotFound(NotFound):
    """No category has this code."""

    code = "citizen_report_category_not_found"

    def __init__(self, category_code: str) -> None:
        super().__init__(
            f"Không có lĩnh vực phản ánh mã {category_code}.",
            f"No report category with code {category_code}.",
            category_code=category_code,
        )


class UnknownCategory(ValidationFailed):
    """A report names a category that does not exist or is no longer offered."""

    code = "unknown_category"

    def __init__(self, category_code: str) -> None:
        super().__init__(
            f"Lĩnh vực phản ánh '{category_code}' không tồn tại hoặc đã ngừng tiếp nhận.",
            f"Report category '{category_code}' does not exist or is no longer offered.",
            field="category_code",
            category_code=category_code,
        )


class CategoryCodeTaken(Conflict):
    """A category with this code exists already."""

    code = "category_code_taken"

    def __init__(self, category_code: str) -> None:
        super().__init__(
            f"Đã có lĩnh vực phản ánh mã {category_code}.",
            f"A report category with code {category_code} exists already.",
            category_code=category_code,
        )


class CategoryInUse(Conflict):
    """A category that reports refer to cannot be deleted (deactivate it instead)."""

    code = "category_in_use"

    def __init__(self, category_code: str, count: int) -> None:
        super().__init__(
            f"Lĩnh vực {category_code} đã có {count} phản ánh nên không xoá được; hãy ngừng kích hoạt lĩnh vực.",
            f"Category {category_code} has {count} report(s) and cannot be deleted; deactivate it instead.",
            category_code=category_code,
            reports=count,
        )


class UnknownAgency(ValidationFailed):
    """A routing rule or an assignment names an agency that does not exist."""

    code = "unknown_agency"

    def __init__(self, agency_code: str) -> None:
        super().__init__(
            f"Không có cơ quan mã {agency_code}.",
            f"No agency with code {agency_code}.",
            field="agency_code",
            agency_code=agency_code,
        )


class NoResponsibleAgency(ValidationFailed):
    """Routing found no agency for the place; an operator must choose one."""

    code = "no_responsible_agency"

    def __init__(self, unit_code: str) -> None:
        super().__init__(
            f"Chưa xác định được cơ quan phụ trách địa bàn {unit_code}; hãy chọn cơ quan xử lý.",
            f"No agency is responsible for unit {unit_code} yet; choose the handling agency.",
            field="agency_code",
            unit_code=unit_code,
        )


class OutsideProvince(ValidationFailed):
    """The report's location is not inside any administrative unit of the province."""

    code = "location_outside_province"

    def __init__(self, lat: float, lon: float) -> None:
        super().__init__(
            f"Vị trí (vĩ độ {lat}, kinh độ {lon}) nằm ngoài địa bàn tỉnh; hãy chọn lại vị trí trên bản đồ.",
            f"The location (lat {lat}, lon {lon}) is outside the province; pick the place on the map again.",
            field="location",
            lat=lat,
            lon=lon,
        )


class InvalidAttribute(ValidationFailed):
    """An answer to a category question is missing or of the wrong kind."""

    code = "invalid_attribute"

    def __init__(self, attribute_code: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi, message_en, field=f"attributes.{attribute_code}", attribute=attribute_code)


class PhotoRequired(ValidationFailed):
    """The category (or resolving it) needs at least one photo."""

    code = "photo_required"

    def __init__(self, proof: bool = False) -> None:
        if proof:
            super().__init__(
                "Cần ít nhất một ảnh kết quả xử lý.", "At least one photo of the result is required.", field="photos"
            )
        else:
            super().__init__(
                "Lĩnh vực này cần ít nhất một ảnh hiện trường.",
                "This category needs at least one photo of the problem.",
                field="photos",
            )


class PhotoRejected(ValidationFailed):
    """An uploaded file is not an acceptable photo."""

    code = "photo_rejected"

    def __init__(self, file_name: str, message_vi: str, message_en: str) -> None:
        super().__init__(
            f"Ảnh '{file_name}': {message_vi}", f"Photo '{file_name}': {message_en}", field="photos", file=file_name
        )


def photo_not_an_image(file_name: str) -> PhotoRejected:
    """Build the error for a file that is not a JPEG, PNG, WebP or HEIC image."""
    return PhotoRejected(
        file_name,
        "không phải ảnh JPEG, PNG, WebP hoặc HEIC (kiểm tra theo nội dung tệp, không theo tên).",
        "is not a JPEG, PNG, WebP or HEIC image (checked by its content, not its name).",
    )


def photo_too_large(file_name: str) -> PhotoRejected:
    """Build the error for a file above the size cap."""
    megabytes = MAX_PHOTO_BYTES // (1024 * 1024)
    return PhotoRejected(file_name, f"tệp lớn hơn {megabytes} MB.", f"the file is larger than {megabytes} MB.")


def photo_too_many_pixels(file_name: str) -> PhotoRejected:
    """Build the error for an image whose dimensions exceed the pixel cap (decompression bombs included)."""
    megapixels = MAX_PHOTO_PIXELS // 1_000_000
    return PhotoRejected(
        file_name,
        f"kích thước ảnh vượt quá {megapixels} triệu điểm ảnh.",
        f"the image has more than {megapixels} megapixels.",
    )


class TooManyPhotos(ValidationFailed):
    """More photos than a report takes."""

    code = "too_many_photos"

    def __init__(self) -> None:
        super().__init__(
            f"Mỗi lần gửi tối đa {MAX_PHOTOS} ảnh.", f"At most {MAX_PHOTOS} photos per submission.", field="photos"
        )


class SubmissionRateLimited(TooManyRequests):
    """Too many reports from one client address in a short time."""

    code = "too_many_reports"

    def __init__(self, count: int, minutes: int, retry_after_seconds: int) -> None:
        super().__init__(
            f"Bạn đã gửi {count} phản ánh trong {minutes} phút vừa qua. Vui lòng thử lại sau "
            f"{max(1, retry_after_seconds // 60)} phút hoặc gọi tổng đài 1022.",
            f"You have sent {count} reports in the last {minutes} minutes. Please try again in "
            f"{max(1, retry_after_seconds // 60)} minute(s) or call the 1022 hotline.",
            retry_after=retry_after_seconds,
        )
        self.retry_after = retry_after_seconds


class InvalidTransition(Conflict):
    """The action is not possible in the report's current status."""

    code = "invalid_transition"

    def __init__(self, action_vi: str, action_en: str, status: str) -> None:
        current = ReportStatus(status)
        super().__init__(
            f"Không thể {action_vi} khi phản ánh đang ở trạng thái '{status_label(current, 'vi')}'.",
            f"Cannot {action_en} while the report is '{status_label(current, 'en')}'.",
            status=status,
        )


class NotAssignedAgency(Forbidden):
    """Only staff of the agency the report is assigned to may act on it."""

    code = "not_assigned_agency"

    def __init__(self) -> None:
        super().__init__(
            "Chỉ cán bộ của cơ quan được giao xử lý mới thực hiện được thao tác này.",
            "Only staff of the agency the report is assigned to can do this.",
        )


class ExtensionNotPending(Conflict):
    """There is no extension request to decide on, or one is already waiting."""

    code = "extension_state"

    def __init__(self, pending: bool) -> None:
        if pending:
            super().__init__(
                "Đã có một đề nghị gia hạn đang chờ lãnh đạo quyết định.",
                "An extension request is already waiting for a decision.",
            )
        else:
            super().__init__("Không có đề nghị gia hạn nào đang chờ.", "There is no pending extension request.")


class InvalidRatingToken(Forbidden):
    """The rating token does not match the report."""

    code = "invalid_rating_token"

    def __init__(self) -> None:
        super().__init__(
            "Mã đánh giá không đúng. Dùng mã được cấp khi gửi phản ánh.",
            "The rating code is wrong. Use the code you were given when you submitted the report.",
        )


class AlreadyRated(Conflict):
    """The result was rated already."""

    code = "already_rated"

    def __init__(self) -> None:
        super().__init__("Kết quả xử lý đã được đánh giá.", "The result has been rated already.")


class CannotMerge(Conflict):
    """A merge or link between these two reports is not possible."""

    code = "cannot_merge"
