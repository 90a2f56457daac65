"""Names and constants of the `scaffoldtest_69907dd64257463ea` module; closed sets of values become StrEnums here."""

from __future__ import annotations

from typing import Final

MODULE_NAME: Final = "scaffoldtest_69907dd64257463ea"
TITLE_VI: Final = 'Quan trắc "thử" nước'
TITLE_EN: Final = "Water test"
PAGE_PATH: Final = "/scaffoldtest_69907dd64257463ea"
SCOPE_READ: Final = "scaffoldtest_69907dd64257463ea:read"
