"""LaTeX escaping for strings that come from data (product names, class names, paths)."""

from __future__ import annotations

import re

from markupsafe import Markup

# Each character that LaTeX treats as special in text mode, with its text-mode form.
# Backslash, tilde and caret need commands because ``\~`` and ``\^`` are accents.
_REPLACEMENTS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_PATTERN = re.compile("|".join(re.escape(char) for char in _REPLACEMENTS))


def escape_latex(value: object) -> Markup:
    """Return ``str(value)`` with every LaTeX special character escaped for text mode.

    A ``Markup`` value is trusted LaTeX (written by a template or a filter) and passes
    through unchanged, so escaping twice never doubles a backslash.
    """
    if isinstance(value, Markup):
        return value
    return Markup(_PATTERN.sub(lambda match: _REPLACEMENTS[match.group()], str(value)))
