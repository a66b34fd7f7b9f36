"""Parse the Kaggle ``styles.csv`` without losing rows to its known defects.

The real file has rows whose productDisplayName contains an unquoted comma, so they
split into 11 or more fields. pandas' default parser raises on the first one, and
``on_bad_lines="skip"`` drops them silently. Here the extra fields are joined back
into productDisplayName, the last column, and the row is kept.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

COLUMNS = (
    "id",
    "gender",
    "masterCategory",
    "subCategory",
    "articleType",
    "baseColour",
    "season",
    "year",
    "usage",
    "productDisplayName",
)
# Columns whose absence leaves a row without a class; the others may be empty.
LABEL_COLUMNS = ("gender", "masterCategory")


class StylesError(ValueError):
    """styles.csv cannot be read at all (missing file, wrong header)."""


@dataclass
class ParsedStyles:
    """Rows of styles.csv that have an integer id, and the rows that were excluded."""

    rows: pd.DataFrame
    """The ten columns, one row per unique id, sorted by id; ``year`` is pandas Int64."""
    exclusions: list[dict] = field(default_factory=list)
    """``{"id", "reason", "detail"}`` per excluded row; ``id`` is None when unparsable."""
    rejoined_ids: list[int] = field(default_factory=list)
    """Ids whose productDisplayName was rebuilt from extra comma-separated fields."""
    invalid_years: int = 0
    """Rows whose year was neither empty nor an integer; the year is left empty."""


def parse_year(text: str) -> int | None:
    """Return the year of ``2012``, ``2012.0`` or an empty string (None).

    Raises ValueError for anything else, such as ``2012.5`` or ``twenty``.
    """
    text = text.strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"year {text!r} is not a whole number")
    return int(value)


def parse_styles(path: str | Path) -> ParsedStyles:
    """Read styles.csv into one row per id, rejoining names split by unquoted commas.

    A row with fewer than ten fields, a non-integer id or a duplicate id is excluded
    and recorded with its line number, so no row is dropped silently.
    """
    path = Path(path)
    if not path.is_file():
        raise StylesError(f"styles.csv not found at {path}; set data_dir to a directory with styles.csv and images/")

    records: list[dict] = []
    exclusions: list[dict] = []
    rejoined: list[int] = []
    invalid_years = 0
    seen: dict[int, int] = {}

    # utf-8-sig strips a byte-order mark that spreadsheet exports put before "id".
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(name.strip() for name in header) != COLUMNS:
            raise StylesError(
                f"{path}: header is {header!r}; expected the ten Kaggle columns {','.join(COLUMNS)}"
            )
        for fields in reader:
            line = reader.line_num
            if not fields or all(not value.strip() for value in fields):
                continue
            raw_id = fields[0].strip()
            try:
                product_id = int(raw_id)
            except ValueError:
                exclusions.append({"id": None, "reason": "invalid_id", "detail": f"line {line}: id {raw_id!r} is not an integer"})
                continue
            if len(fields) < len(COLUMNS):
                exclusions.append(
                    {"id": product_id, "reason": "malformed_row", "detail": f"line {line}: {len(fields)} fields, expected 10"}
                )
                continue
            if len(fields) > len(COLUMNS):
                # Only productDisplayName is free text, so the extra fields belong to it.
                fields = fields[:9] + [",".join(fields[9:])]
                rejoined.append(product_id)
            if product_id in seen:
                exclusions.append(
                    {
                        "id": product_id,
                        "reason": "duplicate_id",
                        "detail": f"line {line}: id already on line {seen[product_id]}; the first row is kept",
                    }
                )
                continue
            seen[product_id] = line

            record = {name: value.strip() for name, value in zip(COLUMNS, fields)}
            record["id"] = product_id
            try:
                record["year"] = parse_year(record["year"])
            except ValueError:
                log.warning("line %d, id %d: year %r is not a whole number; it is left empty", line, product_id, record["year"])
                record["year"] = None
                invalid_years += 1
            records.append(record)

    rows = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    rows["id"] = rows["id"].astype("int64")
    rows["year"] = rows["year"].astype("Int64")
    for name in COLUMNS:
        if name not in ("id", "year"):
            rows[name] = rows[name].astype("string").replace("", pd.NA)
    rows = rows.sort_values("id", kind="stable").reset_index(drop=True)

    if rejoined:
        log.info("rejoined productDisplayName of %d rows with unquoted commas", len(rejoined))
    # Bytes that are not UTF-8 were replaced by U+FFFD while reading, and the row is kept.
    # Only productDisplayName is free text, so only it is checked.
    replaced = rows.loc[rows["productDisplayName"].str.contains("\ufffd", regex=False, na=False), "id"]
    if len(replaced):
        log.warning("%d rows of %s contain bytes that are not UTF-8, replaced by U+FFFD: ids %s", len(replaced), path, replaced.tolist()[:10])
    return ParsedStyles(rows=rows, exclusions=exclusions, rejoined_ids=rejoined, invalid_years=invalid_years)
