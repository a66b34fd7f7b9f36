"""Render the report context with Jinja2: a self-contained HTML file and a LaTeX file.

Both environments use ``StrictUndefined`` and a ``finalize`` hook that rejects
``None`` and NaN, so a missing number stops the render instead of printing
``None`` or ``nan``. Optional parts are tested explicitly in the templates.
"""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any, Callable

import cv2
import jinja2
import numpy as np
import yaml
from markupsafe import Markup

from lookbook.io import atomic_open
from lookbook.report.latex import escape_latex

TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "report" / "templates"


class MissingValueError(ValueError):
    """A template printed None or NaN: the context lacks a value the report shows."""


def _check_value(value: Any) -> Any:
    if value is None:
        raise MissingValueError("a template printed None; the context lacks a value (see the traceback for the line)")
    if isinstance(value, float) and not math.isfinite(value):
        raise MissingValueError(f"a template printed {value}; the context contains a non-finite number")
    return value


# --- number formatting shared by both templates -----------------------------------------


def format_percent(value: float, digits: int = 2) -> str:
    """Format a fraction as a percentage: ``0.9326`` -> ``93.26 %``."""
    return f"{100 * float(_check_value(value)):.{digits}f} %"


def format_number(value: Any, digits: int = 4) -> str:
    """Format an int with thousands separators and a float with ``digits`` significant digits."""
    value = _check_value(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.{digits}g}"
    return str(value)


def format_cell(value: Any) -> str:
    """Format one cell of a table read from a TSV; an empty or NaN cell reads ``undefined``.

    A stage leaves a cell empty or NaN only where the value is undefined, such as the
    Spearman correlation of a constant map.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # ids, seeds and years: no thousands separator
    return format_number(value)


def format_seconds(value: float) -> str:
    """Format a duration in seconds as ``12.3 s``, ``4.5 min`` or ``1.2 h``."""
    seconds = float(_check_value(value))
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def format_value(row: dict[str, Any], key: str) -> str:
    """Format a reproduction-table value by the row's ``format`` (percent, integer, text)."""
    value = row[key]
    if row["format"] == "percent":
        return format_percent(value)
    return format_number(value)


def flatten(mapping: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Flatten nested dicts to ``(dotted.key, value)`` pairs; lists become JSON text."""
    if not isinstance(mapping, dict):
        return [(prefix, mapping)]
    items = []
    for key, value in mapping.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            items.extend(flatten(value, name))
        elif isinstance(value, (list, dict)):
            items.append((name, json.dumps(value)))
        elif value is None:
            items.append((name, "null"))
        else:
            items.append((name, value))
    return items


def _common_filters(env: jinja2.Environment) -> None:
    env.filters.update(
        percent=format_percent,
        number=format_number,
        cell=format_cell,
        seconds=format_seconds,
        value=format_value,
        flatten=flatten,
        to_yaml=lambda value: yaml.safe_dump(value, sort_keys=False, default_flow_style=False),
    )


# --- environments -----------------------------------------------------------------------


def html_environment(templates_dir: Path = TEMPLATES_DIR, root: Path = Path(".")) -> jinja2.Environment:
    """Environment for ``report.html.j2``: HTML autoescaping, figures as data URIs."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_check_value,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    _common_filters(env)
    env.filters["figure"] = lambda path: _data_uri(root / path)
    return env


def tex_environment(
    templates_dir: Path = TEMPLATES_DIR, figure_name: Callable[[str], str] | None = None
) -> jinja2.Environment:
    """Environment for ``report.tex.j2``: LaTeX-safe delimiters, every printed value escaped.

    Statements are ``\\BLOCK{...}``, expressions ``\\VAR{...}`` and comments ``\\#{...}``,
    because ``{%`` and ``{#`` occur in ordinary LaTeX. ``figure_name`` maps a figure's
    workdir path to its file name beside the .tex file.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        finalize=lambda value: escape_latex(_check_value(value)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    _common_filters(env)
    env.filters["figure"] = lambda path: Markup(figure_name(path) if figure_name else path)
    env.filters["latex"] = escape_latex
    # Macro output is LaTeX already escaped value by value; ``raw`` stops a second escape.
    env.filters["raw"] = Markup
    return env


# Grids of product photos compress poorly as PNG (1 to 2.5 MB each). Above this size the
# HTML embeds a JPEG copy when it is smaller, so the single file stays small enough to mail.
JPEG_EMBED_MIN_BYTES = 250_000
JPEG_EMBED_QUALITY = 90


def _data_uri(path: Path) -> str:
    """Return ``path`` as a data URI: the PNG itself, or a JPEG copy of a large PNG."""
    data = path.read_bytes()
    mime = "image/png"
    if len(data) > JPEG_EMBED_MIN_BYTES:
        jpeg = _png_as_jpeg(data)
        if jpeg is not None and len(jpeg) < len(data):
            data, mime = jpeg, "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _png_as_jpeg(data: bytes) -> bytes | None:
    # Figures are drawn on an opaque white background, so dropping alpha changes nothing.
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_EMBED_QUALITY])
    return encoded.tobytes() if ok else None


# --- rendering --------------------------------------------------------------------------


def render_html(context: dict[str, Any], output: str | Path, root: str | Path = ".", templates_dir: Path = TEMPLATES_DIR) -> None:
    """Render ``report.html.j2`` to ``output`` with every figure embedded as a data URI."""
    text = html_environment(templates_dir, Path(root)).get_template("report.html.j2").render(**context)
    with atomic_open(output, "w", encoding="utf-8") as handle:
        handle.write(text)


def render_tex(
    context: dict[str, Any],
    output: str | Path,
    figures_dir: str | Path,
    root: str | Path = ".",
    templates_dir: Path = TEMPLATES_DIR,
) -> list[Path]:
    """Render ``report.tex.j2`` to ``output`` and copy every figure into ``figures_dir``.

    Returns the copied figure paths. Copies are named after their workdir path
    (``figures/gan/all/grid.png`` -> ``gan-all-grid.png``) so that two figures with the
    same file name never overwrite each other.
    """
    output = Path(output)
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    copied: dict[str, Path] = {}

    def figure_name(path: str) -> str:
        if path not in copied:
            target = figures_dir / _figure_file_name(path)
            if target in copied.values():
                raise ValueError(f"figures {path!r} and another one both map to {target.name}")
            shutil.copyfile(Path(root) / path, target)
            copied[path] = target
        return copied[path].relative_to(output.parent).as_posix()

    text = tex_environment(templates_dir, figure_name).get_template("report.tex.j2").render(**context)
    with atomic_open(output, "w", encoding="utf-8") as handle:
        handle.write(text)
    return list(copied.values())


def _figure_file_name(path: str) -> str:
    parts = Path(path).with_suffix("").parts
    if parts and parts[0] == "figures":
        parts = parts[1:]
    stem = re.sub(r"[^A-Za-z0-9]+", "-", "-".join(parts)).strip("-")
    return f"{stem}{Path(path).suffix}"
