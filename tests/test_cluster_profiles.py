"""Execution profiles and per-rule resources, checked without a cluster.

The profiles are parsed with Snakemake's own profile parser, and the resources of
every job come from Snakemake dry runs at the study preset, where the values are the
ones that a cluster receives.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from snakemake.profiles import ProfileConfigFileParser

from test_cluster_slurm import GPU_RULES

REPO_ROOT = Path(__file__).resolve().parents[1]
PROFILES = REPO_ROOT / "workflow" / "profiles"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
STYLES_HEADER = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n"
# Resources of the GPU rule classes in workflow/presets/study.yaml.
STUDY_GPU_THREADS = 8


def parse_profile(name: str, monkeypatch, env: dict[str, str]) -> dict:
    for variable in ("SBATCH_ACCOUNT", "SBATCH_PARTITION"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    with open(PROFILES / name / "config.yaml", encoding="utf-8") as stream:
        return dict(ProfileConfigFileParser().parse(stream))


def parse_dry_run(output: str) -> dict[str, dict]:
    """Return, per rule of a dry run's job list, its threads and resources (one job each)."""
    jobs: dict[str, dict] = {}
    current = None
    for line in output.splitlines():
        header = re.fullmatch(r"(?:local)?rule (\w+):", line)
        if header:
            current = jobs.setdefault(header.group(1), {"threads": 1, "resources": {}})
            continue
        if current is None:
            continue
        if not line.startswith("    "):
            current = None
            continue
        key, _, value = line.strip().partition(": ")
        if key == "threads":
            current["threads"] = int(value)
        elif key == "resources":
            current["resources"] = dict(item.split("=", 1) for item in value.split(", "))
    return jobs


@pytest.fixture(scope="module")
def study_dry_runs(tmp_path_factory) -> dict[int, dict[str, dict]]:
    """Jobs of dry runs at the study preset on attempts 1 and 2, keyed by attempt."""
    workdir = tmp_path_factory.mktemp("study-dry-run")
    data_dir = workdir / "fashion"
    (data_dir / "images").mkdir(parents=True)
    (data_dir / "styles.csv").write_text(STYLES_HEADER, encoding="utf-8")
    shutil.copy(REPO_ROOT / "config.yaml", workdir / "config.yaml")
    runs = {}
    for attempt in (1, 2):
        result = subprocess.run(
            [
                str(SNAKEMAKE),
                "--snakefile",
                str(REPO_ROOT / "Snakefile"),
                "--dry-run",
                "--cores",
                "64",
                "--attempt",
                str(attempt),
                "--config",
                "preset=study",
                f"data_dir={data_dir}",
            ],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        runs[attempt] = parse_dry_run(result.stdout + result.stderr)
    return runs


def test_slurm_profile_uses_executor(monkeypatch):
    profile = parse_profile("slurm", monkeypatch, {})
    assert profile["executor"] == "slurm"


def test_slurm_profile_queries_squeue(monkeypatch):
    profile = parse_profile("slurm", monkeypatch, {})
    assert profile["slurm-status-command"] == "squeue"


def test_slurm_profile_retries_jobs(monkeypatch):
    profile = parse_profile("slurm", monkeypatch, {})
    assert int(profile["retries"]) >= 1


def test_slurm_profile_reads_account_partition(monkeypatch):
    profile = parse_profile("slurm", monkeypatch, {"SBATCH_ACCOUNT": "proj-42", "SBATCH_PARTITION": "all"})
    # Quoted, so that Snakemake keeps a name such as "all" a string instead of
    # evaluating it as a Python expression.
    assert profile["default-resources"] == ["slurm_account='proj-42'", "slurm_partition='all'"]


def test_slurm_profile_hardcodes_no_account(monkeypatch):
    profile = parse_profile("slurm", monkeypatch, {})
    assert profile["default-resources"] == []


def test_gpu_profile_limits_gpu_pool(monkeypatch):
    profile = parse_profile("gpu", monkeypatch, {})
    assert profile["resources"] == ["gpu=1"]


def test_default_profile_runs_locally(monkeypatch):
    profile = parse_profile("default", monkeypatch, {})
    assert "executor" not in profile
    assert profile["cores"] == "all"


def test_rules_declare_memory_runtime_gpu(study_dry_runs):
    jobs = study_dry_runs[1]
    for rule, job in jobs.items():
        if rule == "all":
            continue
        for resource in ("mem_mb", "runtime", "gpu"):
            assert resource in job["resources"], f"rule {rule} declares no {resource}"


def test_gpu_rules_request_one_gpu(study_dry_runs):
    jobs = study_dry_runs[1]
    gpu_rules = {rule for rule, job in jobs.items() if job["resources"].get("gpu", "0") != "0"}
    assert gpu_rules == GPU_RULES
    for rule in gpu_rules:
        assert jobs[rule]["resources"]["gpu"] == "1", rule


def test_gpu_rules_get_study_threads(study_dry_runs):
    jobs = study_dry_runs[1]
    for rule in GPU_RULES:
        assert jobs[rule]["threads"] == STUDY_GPU_THREADS, rule


def test_retry_doubles_memory(study_dry_runs):
    first, second = study_dry_runs[1], study_dry_runs[2]
    for rule, job in first.items():
        if "mem_mb" not in job["resources"]:
            continue
        assert int(second[rule]["resources"]["mem_mb"]) == 2 * int(job["resources"]["mem_mb"]), rule


def test_download_rules_are_local(repo_root):
    rules_dir = repo_root / "workflow" / "rules"
    source = "\n".join(path.read_text(encoding="utf-8") for path in sorted(rules_dir.glob("*.smk")))
    download_rules = set(re.findall(r"^\s*rule ((?:fetch|download)_\w+):", source, flags=re.MULTILINE))
    local_rules = set(re.findall(r"localrules:\s*\n((?:\s+\w+,?\s*\n)+)", source))
    local_names = {name for block in local_rules for name in re.findall(r"\w+", block)}
    assert download_rules >= {"download_kaggle", "fetch_weights"}
    assert download_rules <= local_names
