"""Public facade of the `scaffoldtest_69907dd64257463ea` module: other modules import only from here."""

from .schemas import Scaffoldtest69907dd64257463eaStatus
from .service import get_status

__all__ = ["Scaffoldtest69907dd64257463eaStatus", "get_status"]
