"""Label schemes: how a metadata row (gender, masterCategory) maps to a class.

Each scheme has a fixed, ordered class list, known before any data is read, so the
workflow can name per-class jobs (one DCGAN per class) when it builds its DAG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

GENDER_MERGE = {"Men": "Men", "Boys": "Men", "Women": "Women", "Girls": "Women"}
MASTER_CATEGORIES = ["Apparel", "Accessories", "Footwear", "Personal Care", "Free Items", "Sporting Goods", "Home"]


@dataclass(frozen=True)
class LabelScheme:
    """A mapping from (gender, masterCategory) to a class name or an exclusion reason."""

    name: str
    classes: tuple[str, ...]
    assign: Callable[[str, str], tuple[str | None, str | None]]
    """Return (class name, None) or (None, exclusion reason)."""

    def index(self, label: str) -> int:
        return self.classes.index(label)


def _gender_master(gender: str, master: str) -> tuple[str | None, str | None]:
    if gender == "Unisex":
        return None, "unisex"
    if gender not in GENDER_MERGE:
        return None, "unknown_gender"
    group = master if master in ("Apparel", "Accessories") else "Other"
    return f"{GENDER_MERGE[gender]} {group}", None


def _master_category(gender: str, master: str) -> tuple[str | None, str | None]:
    if master not in MASTER_CATEGORIES:
        return None, "unknown_master_category"
    return master, None


SCHEMES: dict[str, LabelScheme] = {
    "gender_master": LabelScheme(
        name="gender_master",
        classes=tuple(f"{g} {m}" for g in ("Men", "Women") for m in ("Apparel", "Accessories", "Other")),
        assign=_gender_master,
    ),
    "master_category": LabelScheme(name="master_category", classes=tuple(MASTER_CATEGORIES), assign=_master_category),
}


def get_scheme(name: str) -> LabelScheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"label scheme {name!r} is unknown; use one of {sorted(SCHEMES)}") from None


def slugify(name: str) -> str:
    """Return a file-name-safe form of a class name: ``Men Apparel`` -> ``men-apparel``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
