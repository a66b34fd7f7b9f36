"""Logging set-up shared by the command line and the workflow scripts."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: int = logging.INFO) -> None:
    """Send log records to stderr in one fixed format."""
    logging.basicConfig(level=level, format=FORMAT, stream=sys.stderr, force=True)


def setup_script_logging(log_path: str | Path | None) -> None:
    """Send logging and stderr of a Snakemake script job to the rule's ``log:`` file.

    Warnings and tracebacks end up in the same file as the log records, so a failed
    job's log contains the whole record of what went wrong.
    """
    if not log_path:
        setup_logging()
        return
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = open(path, "a", buffering=1, encoding="utf-8")
    sys.stderr = stream
    logging.basicConfig(level=logging.INFO, format=FORMAT, stream=stream, force=True)
    logging.captureWarnings(True)
