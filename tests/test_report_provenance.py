"""Provenance: git state, package versions and Snakemake benchmark files."""

from __future__ import annotations

import subprocess

import pytest
import report_fixture

from lookbook.report import provenance


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def git_repo(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "test@example.com")
    git(tmp_path, "config", "user.name", "test")
    (tmp_path / "a.txt").write_text("a\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-q", "-m", "add a")
    return tmp_path


def test_git_state_clean(git_repo):
    state = provenance.git_state(git_repo)
    head = subprocess.run(["git", "-C", str(git_repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert state["commit"] == head
    assert state["dirty"] is False


def test_git_state_dirty_after_edit(git_repo):
    (git_repo / "a.txt").write_text("changed\n")
    (git_repo / "new.txt").write_text("new\n")
    state = provenance.git_state(git_repo)
    assert state["dirty"] is True
    assert state["changed_files"] == 2


def test_git_state_outside_repository(tmp_path):
    state = provenance.git_state(tmp_path)
    assert state["commit"] == "unknown"
    assert state["dirty"] == "unknown"


def test_package_versions_marks_missing():
    versions = provenance.package_versions(("jinja2", "no-such-distribution-lookbook"))
    assert versions["jinja2"].count(".") >= 1
    assert versions["no-such-distribution-lookbook"] == "not installed"


def test_read_benchmarks_rules_and_values(tmp_path):
    report_fixture.write_benchmarks(tmp_path)
    rows = provenance.read_benchmarks(tmp_path / "results" / "benchmarks")
    assert [row["rule"] for row in rows] == ["classifier_train", "data_clean"]
    assert rows[0]["job"] == "resnet18"
    assert rows[0]["seconds"] == pytest.approx(12.5)
    assert rows[0]["max_rss_mib"] == pytest.approx(812.3)


def test_read_benchmarks_unmeasured_memory_is_none(tmp_path):
    report_fixture.write_benchmarks(tmp_path)
    rows = provenance.read_benchmarks(tmp_path / "results" / "benchmarks")
    assert rows[1]["max_rss_mib"] is None


def test_read_benchmarks_skips_empty_file(tmp_path):
    path = tmp_path / "train" / "x.tsv"
    path.parent.mkdir()
    path.write_text("")
    assert provenance.read_benchmarks(tmp_path) == []


def test_collect_copies_data_checksums(tmp_path):
    record = provenance.collect({"preset": "tiny"}, tmp_path, {"styles_sha256": "ab"}, {"sha256": "cd"})
    assert record["data"]["source"]["styles_sha256"] == "ab"
    assert record["data"]["manifest"]["sha256"] == "cd"
    assert record["config"] == {"preset": "tiny"}
    assert record["cpu"]["logical_cores"] >= 1
