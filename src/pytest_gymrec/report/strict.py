"""JSON that strict parsers accept: no NaN, no Infinity.

Python's ``json`` writes ``Infinity`` and ``NaN``, which are not JSON: JavaScript's
``JSON.parse``, ``jq`` and most CI tools reject the whole file. A verdict's interval is often
unbounded on one side, so every report document goes through :func:`strict_json` first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON ``null``), recursively.

    Dicts, lists and tuples are copied (tuples become lists, as JSON has no tuple); other values
    are returned as they are. Use with ``json.dumps(strict_json(document), allow_nan=False)`` so
    that a value this function does not know about fails loudly instead of writing ``NaN``.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(item) for item in value]
    return value
