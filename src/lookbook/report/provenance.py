"""Provenance of a run: config, code version, software, hardware, data checksums and
per-rule wall time and memory from Snakemake ``benchmark:`` files."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import logging
import math
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

# Distributions whose versions change results or the report; listed in this order.
PACKAGES = (
    "torch",
    "torchvision",
    "captum",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "opencv-python-headless",
    "matplotlib",
    "seaborn",
    "jinja2",
    "snakemake",
)


def git_state(repo: str | Path) -> dict[str, Any]:
    """Return the commit of ``repo`` and whether its tracked or untracked files differ from it.

    Outside a git checkout (a source archive) both values are ``"unknown"`` and the
    reason is logged, because a report must still build there.
    """
    try:
        commit = _git(repo, "rev-parse", "HEAD")
        status = _git(repo, "status", "--porcelain", "--untracked-files=normal")
    except (OSError, subprocess.CalledProcessError) as error:
        log.warning("git state of %s unknown: %s", repo, error)
        return {"commit": "unknown", "dirty": "unknown", "changed_files": 0}
    changed = [line for line in status.splitlines() if line.strip()]
    return {"commit": commit, "dirty": bool(changed), "changed_files": len(changed)}


def _git(repo: str | Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, timeout=60
    )
    return result.stdout.strip()


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Return the installed version of each distribution, or ``"not installed"``."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or the platform's processor string."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def gpu_models() -> list[str]:
    """Return the names of the CUDA devices visible to torch, or an empty list on a CPU-only machine."""
    import torch  # imported here: a second of start-up that only this function needs

    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]


def collect(
    config: dict[str, Any],
    repo: str | Path,
    data_summary: dict[str, Any],
    manifest: dict[str, Any],
) -> dict[str, Any]:
    """Build the provenance record of ``results/provenance/provenance.json``.

    ``data_summary`` and ``manifest`` are the data stage's ``summary.json`` and
    ``manifest.json``. Their checksums are copied, so the report states which data and
    which split the numbers come from.
    """
    return {
        "created_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "config": config,
        "git": git_state(repo),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "cpu": {"model": cpu_model(), "logical_cores": os.cpu_count() or 0},
        "gpus": gpu_models(),
        "data": {
            "source": data_summary,
            "manifest": manifest,
        },
    }


def read_benchmarks(benchmark_dir: str | Path) -> list[dict[str, Any]]:
    """Read every Snakemake benchmark file under ``benchmark_dir``.

    Returns one row per file, sorted by rule then job: the rule (first directory below
    ``benchmark_dir``), the job (the rest of the path, without ``.tsv``), wall time in
    seconds and maximum resident memory in MiB (None where not measured). Snakemake writes one line per
    repetition; the first repetition is used. A file that cannot be parsed is logged
    and skipped, because a benchmark of a job that was killed may be empty.
    """
    root = Path(benchmark_dir)
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        try:
            frame = pd.read_csv(path, sep="\t")
        except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError) as error:
            log.warning("benchmark %s skipped: %s", path, error)
            continue
        if frame.empty or "s" not in frame.columns:
            log.warning("benchmark %s skipped: no 's' column or no rows", path)
            continue
        relative = path.relative_to(root).with_suffix("")
        rule = relative.parts[0]
        job = "/".join(relative.parts[1:]) or rule
        first = frame.iloc[0]
        rows.append(
            {
                "rule": rule,
                "job": job,
                "seconds": _number_or_none(first["s"]),
                "max_rss_mib": _number_or_none(first.get("max_rss")),
            }
        )
    return rows


def _number_or_none(value: Any) -> float | None:
    """Return ``value`` as a float; None where Snakemake wrote ``-`` (not measured)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
