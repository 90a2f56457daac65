"""The shared Jinja macros: form fields, data tables, empty and error states, icons."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from starlette.requests import Request

from ioc.core.errors import ValidationFailed
from ioc.core.runtime import Runtime


def render(runtime: Runtime, source: str, *, query: str = "", lang: str = "vi", **context: Any) -> str:
    """Render a template string the way pages are rendered (request, language, translations)."""
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "server": ("testserver", 80),
            "root_path": "",
            "path": "/list",
            "query_string": query.encode(),
            "headers": [],
        }
    )
    template = runtime.templates.from_string(source)
    return template.render(
        request=request,
        lang=lang,
        t=lambda key, **params: runtime.translator(key, lang, **params),
        csrf_token="token-123",
        **context,
    )


FORMS = '{% from "macros/forms.html" import field, csrf_field, error_summary with context %}'
TABLES = '{% from "macros/tables.html" import data_table with context %}'
STATES = '{% from "macros/states.html" import empty_state, error_state with context %}'


def compact(html: str) -> str:
    """Collapse whitespace so that assertions do not depend on template indentation."""
    return " ".join(html.split())


# ---------- forms ----------


def test_field_links_its_hint_and_error_to_the_control(runtime: Runtime) -> None:
    html = compact(
        render(
            runtime,
            FORMS + '{{ field("email", "Thư điện tử", type="email", value="a@b", hint="Dùng thư công vụ.",'
            ' error={"vi": "Địa chỉ không hợp lệ.", "en": "Invalid address."}, required=True) }}',
        )
    )
    assert '<label for="f-email">Thư điện tử' in html
    assert 'aria-describedby="f-email-hint f-email-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'id="f-email-error"' in html
    assert "Địa chỉ không hợp lệ." in html
    assert "Invalid address." not in html
    assert 'class="form-field has-error"' in html
    assert "required" in html
    assert "(bắt buộc)" in html


def test_field_error_follows_the_users_language(runtime: Runtime) -> None:
    error = ValidationFailed("Mã xã đã tồn tại.", "The commune code already exists.")
    english = render(runtime, FORMS + '{{ field("code", "Code", error=error) }}', lang="en", error=error)
    vietnamese = render(runtime, FORMS + '{{ field("code", "Mã", error=error) }}', lang="vi", error=error)
    assert "The commune code already exists." in english
    assert "Error:" in english
    assert "Mã xã đã tồn tại." in vietnamese
    assert "Lỗi:" in vietnamese


def test_field_without_hint_or_error_has_no_dangling_references(runtime: Runtime) -> None:
    html = render(runtime, FORMS + '{{ field("name", "Tên", value="Tây Ninh") }}')
    assert "aria-describedby" not in html
    assert "aria-invalid" not in html
    assert 'value="Tây Ninh"' in html


def test_password_fields_never_echo_the_value(runtime: Runtime) -> None:
    html = render(runtime, FORMS + '{{ field("password", "Mật khẩu", type="password", value="secret") }}')
    assert "secret" not in html


def test_select_marks_the_chosen_option_and_escapes_labels(runtime: Runtime) -> None:
    html = compact(
        render(
            runtime,
            FORMS + '{{ field("level", "Cấp", type="select", value="commune", options=options) }}',
            options=[("province", "Tỉnh"), ("commune", "Xã <b>")],
        )
    )
    assert '<option value="commune" selected>Xã &lt;b&gt;</option>' in html
    assert '<option value="province">Tỉnh</option>' in html


def test_csrf_field_and_error_summary(runtime: Runtime) -> None:
    html = compact(
        render(runtime, FORMS + "{{ csrf_field() }}{{ error_summary({'name': 'Thiếu tên.', '': 'Lỗi chung.'}) }}")
    )
    assert '<input type="hidden" name="csrf_token" value="token-123">' in html
    assert 'role="alert"' in html
    assert '<a href="#f-name">Thiếu tên.</a>' in html
    assert "<li>Lỗi chung.</li>" in html


# ---------- tables ----------

COLUMNS = [
    {"key": "name", "label": "Tên", "sortable": True, "header": True},
    {"key": "population", "label": "Dân số", "sortable": True, "numeric": True},
    {"key": "note", "label": "Ghi chú"},
]
ROWS = [{"name": "Xã Hưng Điền", "population": 12000, "note": None}]


def test_table_headers_toggle_the_sort_and_keep_other_filters(runtime: Runtime) -> None:
    html = compact(
        render(
            runtime,
            TABLES + '{{ data_table(columns, rows, "Đơn vị", sort="name") }}',
            query="q=h%C6%B0ng&sort=name&offset=50",
            columns=COLUMNS,
            rows=ROWS,
        )
    )
    assert "<caption>Đơn vị</caption>" in html
    assert '<th scope="col" aria-sort="ascending">' in html
    assert 'href="/list?q=h%C6%B0ng&amp;sort=-name"' in html, "active column flips; paging restarts"
    assert 'href="/list?q=h%C6%B0ng&amp;sort=population"' in html
    assert '<th scope="row">Xã Hưng Điền</th>' in html
    assert '<td class="num">12000</td>' in html
    assert "<td></td>" in html, "missing values are blank, not 'None'"


def test_table_descending_sort_is_announced(runtime: Runtime) -> None:
    html = compact(
        render(
            runtime,
            TABLES + '{{ data_table(columns, rows, "Đơn vị", sort="-population") }}',
            columns=COLUMNS,
            rows=ROWS,
        )
    )
    assert 'aria-sort="descending"' in html
    assert 'href="/list?sort=population"' in html
    assert "Sắp xếp theo Dân số, giảm dần" in html


def test_table_pages_with_previous_and_next_links(runtime: Runtime) -> None:
    page = SimpleNamespace(total=120, limit=50, offset=50)
    rows = [{"name": f"Xã {i}", "population": i, "note": ""} for i in range(50)]
    html = compact(
        render(
            runtime,
            TABLES + '{{ data_table(columns, rows, "Đơn vị", page=page) }}',
            query="offset=50&q=x",
            columns=COLUMNS,
            rows=rows,
            page=page,
        )
    )
    assert "51–100 trên tổng số 120" in html
    assert 'rel="prev" href="/list?q=x"' in html, "the first page needs no offset"
    assert 'rel="next" href="/list?q=x&amp;offset=100"' in html


def test_last_page_has_no_next_link(runtime: Runtime) -> None:
    page = SimpleNamespace(total=120, limit=50, offset=100)
    rows = [{"name": f"Xã {i}", "population": i, "note": ""} for i in range(20)]
    html = render(
        runtime,
        TABLES + '{{ data_table(columns, rows, "Đơn vị", page=page) }}',
        query="offset=100",
        columns=COLUMNS,
        rows=rows,
        page=page,
    )
    assert 'rel="next"' not in html
    assert 'rel="prev" href="/list?offset=50"' in html


def test_empty_table_shows_the_empty_state(runtime: Runtime) -> None:
    html = compact(
        render(
            runtime,
            TABLES + '{{ data_table(columns, [], "Đơn vị", empty_message="Chưa nhập đơn vị nào.") }}',
            columns=COLUMNS,
        )
    )
    assert "<table" not in html
    assert 'data-state="empty"' in html
    assert "Chưa nhập đơn vị nào." in html


def test_table_cells_can_be_rendered_by_a_call_block(runtime: Runtime) -> None:
    source = TABLES + (
        '{% call(row, column) data_table(columns, rows, "Đơn vị") %}'
        '{% if column.key == "name" %}<a href="/units/{{ row.name|urlencode }}">{{ row.name }}</a>'
        "{% else %}{{ row[column.key] }}{% endif %}{% endcall %}"
    )
    html = render(runtime, source, columns=COLUMNS, rows=ROWS)
    assert '<a href="/units/X%C3%A3%20H%C6%B0ng%20%C4%90i%E1%BB%81n">Xã Hưng Điền</a>' in html


# ---------- states and icons ----------


def test_error_state_is_an_alert_with_a_retry_link(runtime: Runtime) -> None:
    html = compact(
        render(runtime, STATES + '{{ error_state(message="Mất kết nối.", retry_url="/list", request_id="abc") }}')
    )
    assert 'role="alert"' in html
    assert "Đã xảy ra lỗi" in html
    assert "Mất kết nối." in html
    assert "Mã yêu cầu: abc" in html
    assert '<a class="btn" href="/list">Thử lại</a>' in html


def test_empty_state_defaults_to_the_users_language(runtime: Runtime) -> None:
    assert "Nothing here yet" in render(runtime, STATES + "{{ empty_state() }}", lang="en")


def test_icons_map_emoji_to_the_shell_icon_set(runtime: Runtime) -> None:
    source = '{% from "macros/icons.html" import icon %}{{ icon("🗺") }}|{{ icon("users") }}|{{ icon("Σ") }}'
    mapped, named, text = render(runtime, source).split("|")
    assert '<use href="/static/img/icons.svg#i-map">' in mapped
    assert '<use href="/static/img/icons.svg#i-users">' in named
    assert text == '<span class="icon icon-text" aria-hidden="true">Σ</span>'
