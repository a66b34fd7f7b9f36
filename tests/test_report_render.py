"""Rendering both templates from a fixture results tree."""

from __future__ import annotations

import re

import pytest
import report_fixture

from lookbook.report import context as report_context
from lookbook.report import provenance, render
from lookbook.report.latex import escape_latex


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Render HTML and LaTeX once from a tree with a comparison and one skipped DCGAN subset."""
    root = tmp_path_factory.mktemp("render")
    config = report_fixture.fixture_config(classifier={"compare": ["resnet34"]})
    inputs = report_fixture.write_results(root, config)
    report_fixture.write_benchmarks(root)
    context = report_context.build_context(config, inputs, provenance.read_benchmarks(root / "results" / "benchmarks"), root=root)
    html_path = root / "report" / "build" / "report.html"
    tex_path = root / "report" / "build" / "report.tex"
    render.render_html(context, html_path, root=root)
    copied = render.render_tex(context, tex_path, root / "report" / "build" / "figures", root=root)
    return {
        "root": root,
        "context": context,
        "html": html_path.read_text(encoding="utf-8"),
        "tex": tex_path.read_text(encoding="utf-8"),
        "copied": copied,
    }


# Text a missing value or an unrendered template expression would leave behind.
PLACEHOLDERS = [r"\bNone\b", r"\bnan\b", r"\bNaN\b", r"\binf\b", r"\(\)", r"\(\s*\)"]
HTML_LEFTOVERS = [r"\{\{", r"\}\}", r"\{%", r"%\}"]
TEX_LEFTOVERS = [r"\\VAR\{", r"\\BLOCK\{", r"\{\s*\}\s*&"]


@pytest.mark.parametrize("pattern", PLACEHOLDERS + HTML_LEFTOVERS)
def test_html_has_no_placeholder(rendered, pattern):
    assert re.search(pattern, rendered["html"]) is None


@pytest.mark.parametrize("pattern", PLACEHOLDERS + TEX_LEFTOVERS)
def test_tex_has_no_placeholder(rendered, pattern):
    assert re.search(pattern, rendered["tex"]) is None


def test_html_has_no_empty_cells(rendered):
    assert re.search(r"<td[^>]*>\s*</td>", rendered["html"]) is None


@pytest.mark.parametrize("document", ["html", "tex"])
def test_report_shows_run_accuracies(rendered, document):
    text = rendered[document]
    assert "77.78 \\%" in text or "77.78 %" in text
    assert "62.00" in text
    assert "66.67" in text


@pytest.mark.parametrize("document", ["html", "tex"])
def test_report_shows_study_accuracies(rendered, document):
    text = rendered[document]
    for value in ("93.26", "91.26", "91.75"):
        assert value in text


def test_html_shows_every_confusion_count(rendered):
    html = rendered["html"]
    table = html.split("Confusion matrix (test set")[1].split("</table>")[0]
    counts = [int(value) for value in re.findall(r'<td class="num">(\d+)</td>', table)]
    matrix = rendered["context"]["classifier"]["confusion"]["matrix"]
    assert counts == [count for row in matrix for count in row]


def test_html_shows_per_class_f1(rendered):
    for row in rendered["context"]["classifier"]["per_class"]:
        assert f"{100 * row['f1']:.1f} %" in rendered["html"]


def test_tex_escapes_product_names(rendered):
    for name in report_fixture.TRICKY_NAMES:
        if name in {row[1] for row in rendered["context"]["classifier"]["misclassified"]["rows"]}:
            assert str(escape_latex(name)) in rendered["tex"]


def test_tex_has_no_raw_product_names(rendered):
    for name in report_fixture.TRICKY_NAMES[:2]:
        assert name not in rendered["tex"]


def test_html_escapes_product_names(rendered):
    assert "Nike <Air> Jordan" not in rendered["html"]


def test_html_embeds_every_figure(rendered):
    sources = re.findall(r'<img src="([^"]*)"', rendered["html"])
    figures = [path for name, path in report_context.report_inputs(rendered["context"]["provenance"]["config"]).items() if name.startswith("fig_")]
    assert len(sources) == len(figures)
    assert all(source.startswith("data:image/png;base64,") for source in sources)


def test_tex_copies_every_figure(rendered):
    includes = re.findall(r"\\includegraphics\[[^\]]*\]\{([^}]*)\}", rendered["tex"])
    assert len(includes) == len(rendered["copied"])
    assert all((rendered["root"] / "report" / "build" / include).is_file() for include in includes)


def test_tex_figure_names_unique(rendered):
    names = [path.name for path in rendered["copied"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("document", ["html", "tex"])
def test_report_states_demo_scale(rendered, document):
    text = rendered[document]
    assert "does not use the study's setting" in text
    assert "generated demo data" in text


@pytest.mark.parametrize("document", ["html", "tex"])
def test_report_shows_skip_reason(rendered, document):
    assert "fewer than gan.min" in rendered[document]


@pytest.mark.parametrize("document", ["html", "tex"])
def test_report_shows_comparison(rendered, document):
    assert "resnet34" in rendered[document]


def test_comparison_absent_sentence(tmp_path):
    config = report_fixture.fixture_config()
    inputs = report_fixture.write_results(tmp_path, config)
    context = report_context.build_context(config, inputs, [], root=tmp_path)
    render.render_html(context, tmp_path / "report.html", root=tmp_path)
    assert "No architecture comparison" in (tmp_path / "report.html").read_text()


def test_missing_value_stops_render(tmp_path, rendered):
    context = dict(rendered["context"])
    context["classifier"] = dict(context["classifier"], parameters=None)
    with pytest.raises(render.MissingValueError, match="printed None"):
        render.render_html(context, tmp_path / "report.html", root=rendered["root"])
    assert not (tmp_path / "report.html").exists()


def test_nan_value_stops_tex_render(tmp_path, rendered):
    context = dict(rendered["context"])
    context["run"] = dict(context["run"], images=float("nan"))
    with pytest.raises(render.MissingValueError, match="nan"):
        render.render_tex(context, tmp_path / "report.tex", tmp_path / "figures", root=rendered["root"])


def test_undefined_key_stops_render(tmp_path, rendered):
    context = dict(rendered["context"])
    del context["gan"]
    with pytest.raises(Exception, match="gan"):
        render.render_html(context, tmp_path / "report.html", root=rendered["root"])


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.9326, "93.26 %"), (1.0, "100.00 %"), (0.0, "0.00 %")],
)
def test_format_percent(value, text):
    assert render.format_percent(value) == text


@pytest.mark.parametrize(("value", "text"), [(11179590, "11,179,590"), (212.5, "212.5"), (0.123456, "0.1235"), (True, "yes")])
def test_format_number(value, text):
    assert render.format_number(value) == text


@pytest.mark.parametrize(("value", "text"), [(None, "undefined"), (float("nan"), "undefined"), (2024, "2024"), ("a", "a")])
def test_format_cell(value, text):
    assert render.format_cell(value) == text


@pytest.mark.parametrize(("seconds", "text"), [(12.34, "12.3 s"), (600, "10.0 min"), (9000, "2.5 h")])
def test_format_seconds(seconds, text):
    assert render.format_seconds(seconds) == text


@pytest.mark.parametrize("document", ["html", "tex"])
def test_study_setting_banner(tmp_path, rendered, document):
    context = dict(rendered["context"], differences=[])
    if document == "html":
        render.render_html(context, tmp_path / "report.html", root=rendered["root"])
        text = (tmp_path / "report.html").read_text()
    else:
        render.render_tex(context, tmp_path / "report.tex", tmp_path / "figures", root=rendered["root"])
        text = (tmp_path / "report.tex").read_text()
    assert "uses the study's model and training setting" in text
    assert "does not use the study's setting" not in text


def test_data_uri_large_photo_grid_becomes_jpeg(tmp_path):
    import base64

    import cv2
    import numpy as np

    from lookbook.report.render import _data_uri

    rng = np.random.default_rng(0)
    photos = cv2.GaussianBlur(rng.integers(0, 256, (600, 600, 3), dtype=np.uint8), (5, 5), 0)
    path = tmp_path / "grid.png"
    cv2.imwrite(str(path), photos)
    uri = _data_uri(path)
    assert uri.startswith("data:image/jpeg;base64,")
    decoded = cv2.imdecode(np.frombuffer(base64.b64decode(uri.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (600, 600, 3)
    assert len(uri) < len(base64.b64encode(path.read_bytes()))


def test_data_uri_small_figure_stays_png(tmp_path):
    import cv2
    import numpy as np

    from lookbook.report.render import _data_uri

    path = tmp_path / "bars.png"
    cv2.imwrite(str(path), np.full((100, 100, 3), 255, dtype=np.uint8))
    assert _data_uri(path).startswith("data:image/png;base64,")
