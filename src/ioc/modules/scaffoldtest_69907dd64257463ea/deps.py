"""Dependencies of the `scaffoldtest_69907dd64257463ea` routes: authenticators with the module's scopes."""

from __future__ import annotations

from ioc.core.security import require_scope

from .constants import SCOPE_READ

# 401 without credentials, 403 without the scope; use as `_principal: Principal = Depends(require_read)`.
require_read = require_scope(SCOPE_READ)
