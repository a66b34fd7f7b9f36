"""Static checks of the Snakemake workflow: Snakemake's own linter and snakefmt."""

import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_snakemake_lint_reports_nothing(repo_root, tmp_path):
    shutil.copy(repo_root / "config.yaml", tmp_path / "config.yaml")
    result = subprocess.run(
        [BIN / "snakemake", "-s", repo_root / "Snakefile", "--directory", tmp_path, "--lint"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_snakefmt_check_passes(repo_root):
    files = [repo_root / "Snakefile", *sorted((repo_root / "workflow" / "rules").glob("*.smk"))]
    result = subprocess.run([BIN / "snakefmt", "--check", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
