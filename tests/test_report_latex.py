"""LaTeX escaping of strings from data."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from lookbook.report.latex import escape_latex


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("&", r"\&"),
        ("%", r"\%"),
        ("_", r"\_"),
        ("#", r"\#"),
        ("$", r"\$"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("~", r"\textasciitilde{}"),
        ("^", r"\textasciicircum{}"),
        ("\\", r"\textbackslash{}"),
        ("<", r"\textless{}"),
        (">", r"\textgreater{}"),
    ],
)
def test_escape_latex_special_character(raw, escaped):
    assert escape_latex(raw) == escaped


def test_escape_latex_product_name():
    name = r"Puma Men's Tee & Shorts 100% Cotton_Blue #1 {x} ~ ^ \ $5"
    expected = (
        r"Puma Men's Tee \& Shorts 100\% Cotton\_Blue \#1 \{x\} \textasciitilde{} "
        r"\textasciicircum{} \textbackslash{} \$5"
    )
    assert escape_latex(name) == expected


def test_escape_latex_backslash_before_brace():
    # The backslash's replacement contains braces, which must not be escaped again.
    assert escape_latex("\\{") == r"\textbackslash{}\{"


def test_escape_latex_keeps_markup():
    trusted = Markup(r"\textbf{x}")
    assert escape_latex(trusted) == r"\textbf{x}"


def test_escape_latex_converts_numbers():
    assert escape_latex(12.5) == "12.5"
