"""The whole workflow on the generated demo data at the tiny preset, checked as a user would.

One session-scoped run feeds every test here. The tests check that the reports exist,
that the HTML loads in headless Chromium with every image decoded, and that a change to
a result or a figure reruns only the jobs downstream of it, never training.
"""

from __future__ import annotations

import re
import shutil
import zipfile

import pytest
import report_browser
from e2e_helpers import planned_rules, require_success, run_snakemake

from lookbook.io import read_json

pytestmark = pytest.mark.e2e

REPORT_RULES = {"report_context", "report_html", "report_tex", "report_pdf", "report", "all"}


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e-demo")
    result = run_snakemake(workdir, "--cores", "2", "--config", "preset=tiny")
    (workdir / "snakemake.out").write_text(result.stdout + result.stderr)
    require_success(result, "snakemake --cores 2 --config preset=tiny")
    return workdir


def test_demo_run_writes_html_and_tex(demo_run):
    assert (demo_run / "report" / "build" / "report.html").stat().st_size > 10_000
    assert (demo_run / "report" / "build" / "report.tex").is_file()
    assert (demo_run / "report" / "build" / "README.txt").is_file()


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk not installed, so the workflow builds no PDF")
def test_demo_run_builds_pdf(demo_run):
    assert (demo_run / "report" / "build" / "report.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.browser
@pytest.mark.skipif(report_browser.chromium_path() is None, reason="chromium not installed")
def test_demo_report_loads_in_chromium(demo_run, tmp_path):
    html = demo_run / "report" / "build" / "report.html"
    result = report_browser.check_page(html, tmp_path)
    shot = report_browser.screenshot(html, tmp_path / "report.png", tmp_path)
    shutil.copyfile(shot, demo_run / "report" / "build" / "screenshot.png")
    assert result["images"] >= 20
    assert result["broken"] == []
    assert result["errors"] == []


def test_demo_report_states_demo_scale(demo_run):
    html = (demo_run / "report" / "build" / "report.html").read_text(encoding="utf-8")
    assert "does not use the study's setting" in html
    assert "generated demo data" in html
    assert "preset <code>tiny</code>" in html


@pytest.mark.parametrize("pattern", [r"\bNone\b", r"\bnan\b", r"<td[^>]*>\s*</td>"])
def test_demo_report_has_no_placeholder(demo_run, pattern):
    html = (demo_run / "report" / "build" / "report.html").read_text(encoding="utf-8")
    assert re.search(pattern, html) is None


def test_demo_report_shows_test_accuracy(demo_run):
    evaluation = read_json(demo_run / "results" / "classifier" / "resnet18" / "evaluation.json")
    html = (demo_run / "report" / "build" / "report.html").read_text(encoding="utf-8")
    assert f"{100 * evaluation['test_accuracy']:.2f} %" in html


def test_demo_context_lists_benchmarks(demo_run):
    context = read_json(demo_run / "results" / "report" / "context.json")
    rules = {row["rule"] for row in context["benchmarks"]}
    assert {"train_classifier", "gan_train", "data_decode"} <= rules


def test_demo_provenance_names_commit(demo_run):
    record = read_json(demo_run / "results" / "provenance" / "provenance.json")
    assert len(record["git"]["commit"]) == 40
    assert record["config"]["preset"] == "tiny"


def dry_run_report(workdir):
    """Dry-run the report target, rerunning on changed files only.

    ``--rerun-triggers mtime`` keeps edits to the checkout's scripts out of this check.
    Snakemake 9 also compares the checksums it recorded for small inputs, so the tests
    below change a file's content instead of only touching it.
    """
    result = run_snakemake(workdir, "report", "--cores", "1", "--dry-run", "--rerun-triggers", "mtime", "--config", "preset=tiny")
    require_success(result, "snakemake report --dry-run")
    return planned_rules(result)


def append_bytes(path, data):
    with open(path, "ab") as handle:
        handle.write(data)


def test_report_target_up_to_date(demo_run):
    assert dry_run_report(demo_run) == set()


def test_figure_change_reruns_only_report(demo_run):
    append_bytes(demo_run / "figures" / "search" / "examples.png", b"\0")
    rules = dry_run_report(demo_run)
    assert "report_html" in rules
    assert rules <= REPORT_RULES


def test_result_change_reruns_plots_not_training(demo_run):
    append_bytes(demo_run / "results" / "classifier" / "resnet18" / "evaluation.json", b"\n")
    rules = dry_run_report(demo_run)
    assert "plot_classifier" in rules
    assert "report_context" in rules
    assert "train_classifier" not in rules
    assert "gan_train" not in rules


def test_workflow_report_zip(demo_run):
    result = run_snakemake(demo_run, "--cores", "1", "--report", "report/build/workflow-report.zip", "--config", "preset=tiny")
    require_success(result, "snakemake --report report/build/workflow-report.zip")
    with zipfile.ZipFile(demo_run / "report" / "build" / "workflow-report.zip") as archive:
        names = archive.namelist()
    assert any(name.startswith("workflow-report/data/") and name.endswith("/report.html") for name in names)
    assert any(name.endswith("/curves.png") for name in names)
