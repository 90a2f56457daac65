"""Errors of the `scaffoldtest_69907dd64257463ea` module (none yet).

Subclass the kernel's errors, which carry their HTTP status, and give every message in Vietnamese and
English:

    class Scaffoldtest69907dd64257463eaItemNotFound(NotFound):
        code = "scaffoldtest_69907dd64257463ea_item_not_found"

        def __init__(self, item_id: int) -> None:
            super().__init__(f"Không tìm thấy mục số {item_id}.", f"Item {item_id} does not exist.", id=item_id)
"""
