"""Errors of the `dashboard` module, with their HTTP status and messages in Vietnamese and English."""

from __future__ import annotations

from ioc.core.errors import NotFound, ServiceUnavailable, ValidationFailed


class LayerNotFound(NotFound):
    """No enabled module offers this layer to the caller."""

    code = "dashboard_layer_not_found"

    def __init__(self, key: str) -> None:
        super().__init__(f"Không có lớp bản đồ '{key}'.", f"There is no map layer '{key}'.", key=key)


class LayerFailed(ServiceUnavailable):
    """The module behind a layer could not answer it just now."""

    code = "dashboard_layer_failed"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Lớp bản đồ '{key}' tạm thời không tải được.", f"The map layer '{key}' cannot be loaded now.", key=key
        )


class ChartNotFound(NotFound):
    """No chart has this key among the enabled modules."""

    code = "dashboard_chart_not_found"

    def __init__(self, key: str) -> None:
        super().__init__(f"Không có biểu đồ '{key}'.", f"There is no chart '{key}'.", key=key)


class LayoutInvalid(ValidationFailed):
    """A wall layout names a tile or chart that no enabled module offers."""

    code = "dashboard_layout_invalid"

    def __init__(self, screen: int, key: str) -> None:
        super().__init__(
            f"Màn hình {screen}: không có ô chỉ số hoặc biểu đồ '{key}'.",
            f"Screen {screen}: there is no tile or chart '{key}'.",
            screen=screen,
            key=key,
        )


class UnitNotFound(NotFound):
    """The drill-down names a unit that does not exist."""

    code = "dashboard_unit_not_found"

    def __init__(self, code: str) -> None:
        super().__init__(f"Không có đơn vị hành chính mã '{code}'.", f"There is no unit with code '{code}'.", code=code)


class RoleUnknown(ValidationFailed):
    """A layout is asked for a role that does not exist."""

    code = "dashboard_role_unknown"

    def __init__(self, role: str) -> None:
        super().__init__(f"Không có vai trò '{role}'.", f"There is no role '{role}'.", field="role")
