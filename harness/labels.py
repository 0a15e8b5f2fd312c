"""The SUT's label (``--label``, ``services.sut.label``): what reports and ``compare`` call it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

LABEL_MAX = 80
_LABEL_RE = re.compile(r"[^\x00-\x1f\x7f]{1,%d}" % LABEL_MAX)


def check_label(value: str) -> str:
    """``value`` if it is a usable label, else ``ValueError`` saying what one looks like."""
    if not _LABEL_RE.fullmatch(value):
        raise ValueError(f"a label is 1 to {LABEL_MAX} characters without control characters "
                         "(no tabs or line breaks), e.g. \"Vendor A 2.3\"")
    return value


SutLabel = Annotated[str, AfterValidator(check_label)]
