"""Values taken from a request's address: where to send the browser next, and integer ids.

- `local_path(target)`: a redirect target from the request (`next`, a referrer) is followed only
  if a browser reads it as a path on this site, exactly as given; otherwise the caller falls back
  to a page of its own.
- `BoundedIntConverter` replaces Flask's `int` URL converter (see `lms.create_app`): an id the
  database's INTEGER cannot hold is not found (404) instead of overflowing in the query (500).
- `page_arguments_fit(args)` checks the `page` and `per_page` arguments that Flask-SQLAlchemy's
  `db.paginate` reads from the query string itself.
- `id_argument(args, name)`: an id from the query string, only if the database can hold it; every
  view reads ids from the query string through it (a bare `type=int` overflows in the query).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter, Map

# The largest value of an INTEGER column (PostgreSQL's int4; every id in the schema is one).
MAX_DB_INT = 2**31 - 1
# The query arguments Flask-SQLAlchemy's db.paginate reads by itself.
PAGE_ARGUMENTS = ("page", "per_page")

# ASCII control characters (C0 and DEL): a browser drops tabs and newlines from a URL, and
# leading or trailing controls and spaces, so "/\t/other.host" becomes "//other.host".
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def id_argument(args: Mapping[str, str], name: str) -> int | None:
    """A positive id from the query string; anything else (text, 0, negative, too large) counts as not given."""
    try:
        value = int(args.get(name) or "")
    except ValueError:
        return None
    return value if 0 < value <= MAX_DB_INT else None


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site as a browser will read it, else None.

    Nothing is stripped or repaired: a target with a control character or a backslash (which a
    browser reads as "/"), one not starting with exactly one "/", or one with a scheme or host
    is refused whole.
    """
    if not target or _CONTROL.search(target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def page_arguments_fit(args: Mapping[str, str]) -> bool:
    """False if `page` or `per_page` is a number beyond what the database takes as OFFSET or LIMIT.

    `db.paginate` reads both from the query string itself, with no upper bound, and a value
    beyond the database's integers made the query fail (500). A value that is no number is left
    to `db.paginate`, which shows the first page.
    """
    for name in PAGE_ARGUMENTS:
        try:
            number = int(args.get(name, ""))
        except ValueError:
            continue
        if not -MAX_DB_INT - 1 <= number <= MAX_DB_INT:
            return False
    return True


class BoundedIntConverter(IntegerConverter):
    """Flask's `int` converter, limited to what an INTEGER column holds: larger values are not found.

    Explicit bounds in a rule (`<int(max=99):n>`) still apply when they are narrower.
    """

    def __init__(
        self,
        map: Map,  # noqa: A002  (werkzeug's parameter names)
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002
        max: int | None = None,  # noqa: A002
        signed: bool = False,
    ) -> None:
        lower = -MAX_DB_INT - 1 if min is None else builtins.max(min, -MAX_DB_INT - 1)
        upper = MAX_DB_INT if max is None else builtins.min(max, MAX_DB_INT)
        super().__init__(map, fixed_digits=fixed_digits, min=lower, max=upper, signed=signed)
