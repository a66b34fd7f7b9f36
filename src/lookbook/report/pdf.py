"""Build the PDF from the rendered .tex file with latexmk."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

BUILD_INSTRUCTIONS = """\
report.tex is the LaTeX version of report.html; its figures are in figures/ beside it.

The workflow builds report.pdf with latexmk when latexmk is installed and the config
has report.pdf: auto (the default). To build it by hand, install a LaTeX toolchain
(Debian: apt-get install latexmk texlive-latex-recommended texlive-latex-extra
texlive-fonts-recommended) and run, in this directory:

    latexmk -pdf -interaction=nonstopmode -halt-on-error report.tex
"""


class PdfBuildError(RuntimeError):
    """latexmk failed. The message contains the end of the LaTeX log."""


def latexmk_path() -> str | None:
    return shutil.which("latexmk")


def build_pdf(tex_path: str | Path, timeout_s: int = 600) -> Path:
    """Run latexmk on ``tex_path`` in its own directory and return the PDF path.

    latexmk writes the PDF and its auxiliary files into ``.latexmk/`` beside the .tex
    file, and the finished PDF is renamed into place, so a failed build never leaves a
    partial ``report.pdf``. Raises PdfBuildError with the end of the LaTeX
    log when the build fails, and FileNotFoundError when latexmk is not installed.
    """
    tex_path = Path(tex_path).resolve()
    latexmk = latexmk_path()
    if latexmk is None:
        raise FileNotFoundError(
            "latexmk not found on PATH; install latexmk and a TeX distribution, "
            f"or set report.pdf: never. Build instructions:\n{BUILD_INSTRUCTIONS}"
        )
    work_dir = tex_path.parent / ".latexmk"
    command = [
        latexmk,
        "-pdf",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        f"-outdir={work_dir.name}",
        tex_path.name,
    ]
    log.info("running %s in %s", " ".join(command), tex_path.parent)
    result = subprocess.run(command, cwd=tex_path.parent, capture_output=True, text=True, timeout=timeout_s)
    built = work_dir / tex_path.with_suffix(".pdf").name
    if result.returncode != 0 or not built.is_file():
        latex_log = work_dir / tex_path.with_suffix(".log").name
        tail = latex_log.read_text(encoding="utf-8", errors="replace")[-3000:] if latex_log.is_file() else result.stdout[-3000:]
        raise PdfBuildError(f"latexmk failed with exit status {result.returncode} on {tex_path}; end of the LaTeX log:\n{tail}")
    pdf_path = tex_path.with_suffix(".pdf")
    os.replace(built, pdf_path)
    log.info("wrote %s (%d bytes)", pdf_path, pdf_path.stat().st_size)
    return pdf_path
