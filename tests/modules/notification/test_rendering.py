"""Template rendering in the sandbox."""

from __future__ import annotations

import pytest

from ioc.modules.notification import TemplateInvalid
from ioc.modules.notification.rendering import check_template, render_text

pytestmark = pytest.mark.engine_free  # no database: run once, in the SQLite pass


def test_placeholders_are_filled() -> None:
    assert render_text("Trạm {{ station }}: PM2.5 = {{ value }} µg/m³", {"station": "Tân Ninh", "value": 87}) == (
        "Trạm Tân Ninh: PM2.5 = 87 µg/m³"
    )


def test_missing_placeholder_names_the_parameter() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        render_text("Xin chào {{ ho_ten }}", {})

    assert "ho_ten" in caught.value.message_vi
    assert "Thiếu tham số" in caught.value.message_vi
    assert "Missing template parameter" in caught.value.message_en


def test_optional_parts_can_test_whether_a_parameter_exists() -> None:
    source = "A{% if place is defined %} tại {{ place }}{% endif %}"

    assert render_text(source, {}) == "A"
    assert render_text(source, {"place": "Hoà Thành"}) == "A tại Hoà Thành"


def test_html_is_not_escaped_in_plain_text_messages() -> None:
    assert render_text("{{ x }}", {"x": "a < b & c"}) == "a < b & c"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ name.__class__ }}",
        "{{ name|attr('__class__') }}",
        "{{ name['__class__'] }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_sandbox_refuses_attribute_tricks(source: str) -> None:
    with pytest.raises(TemplateInvalid):
        render_text(source, {"name": "x"})
    with pytest.raises(TemplateInvalid):
        check_template(source)


def test_huge_ranges_are_refused() -> None:
    with pytest.raises(TemplateInvalid):
        render_text("{% for i in range(10**9) %}x{% endfor %}", {})


def test_syntax_errors_are_reported_with_the_line() -> None:
    with pytest.raises(TemplateInvalid) as caught:
        check_template("Dòng 1\n{{ chua_dong ")

    assert "dòng 2" in caught.value.message_vi
