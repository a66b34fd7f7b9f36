"""Run the Snakemake workflow in a temporary directory, as a user would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def run_snakemake(workdir: Path, *arguments: str, timeout_s: int = 1800) -> subprocess.CompletedProcess:
    """Run ``snakemake -s <repo>/Snakefile --directory workdir`` with the repo's config.yaml copied there."""
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / "config.yaml").exists():
        shutil.copyfile(REPO_ROOT / "config.yaml", workdir / "config.yaml")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [str(SNAKEMAKE), "-s", str(REPO_ROOT / "Snakefile"), "--directory", str(workdir), *arguments]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)


def require_success(result: subprocess.CompletedProcess, command: str) -> None:
    if result.returncode != 0:
        raise AssertionError(f"{command} failed with exit status {result.returncode}; end of its output:\n{(result.stdout + result.stderr)[-6000:]}")


def planned_rules(result: subprocess.CompletedProcess) -> set[str]:
    """Return the rule names of the jobs a dry run lists."""
    return set(re.findall(r"^(?:local)?rule (\w+):", result.stdout + result.stderr, re.M))
