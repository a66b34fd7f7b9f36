"""PDF build with latexmk from a rendered fixture report."""

from __future__ import annotations

import shutil

import pytest
import report_fixture

from lookbook.report import context as report_context
from lookbook.report import pdf, render

needs_latexmk = pytest.mark.skipif(
    shutil.which("latexmk") is None, reason="latexmk not installed (Debian: latexmk texlive-latex-recommended texlive-latex-extra)"
)


def render_fixture_tex(root):
    config = report_fixture.fixture_config(classifier={"compare": ["resnet34"]})
    inputs = report_fixture.write_results(root, config)
    context = report_context.build_context(config, inputs, [], root=root)
    tex_path = root / "report" / "build" / "report.tex"
    render.render_tex(context, tex_path, root / "report" / "build" / "figures", root=root)
    return tex_path


@pytest.mark.latex
@needs_latexmk
def test_build_pdf_from_fixture(tmp_path):
    pdf_path = pdf.build_pdf(render_fixture_tex(tmp_path))
    assert pdf_path == tmp_path / "report" / "build" / "report.pdf"
    assert pdf_path.read_bytes()[:5] == b"%PDF-"


@pytest.mark.latex
@needs_latexmk
def test_build_pdf_failure_shows_log(tmp_path):
    tex_path = tmp_path / "broken.tex"
    tex_path.write_text("\\documentclass{article}\\begin{document}\\undefinedcommand\\end{document}\n")
    with pytest.raises(pdf.PdfBuildError, match="Undefined control sequence"):
        pdf.build_pdf(tex_path)
    assert not (tmp_path / "broken.pdf").exists()


def test_build_pdf_without_latexmk_explains(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "latexmk_path", lambda: None)
    with pytest.raises(FileNotFoundError, match="latexmk -pdf"):
        pdf.build_pdf(tmp_path / "report.tex")
