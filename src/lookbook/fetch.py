"""Download of the Kaggle "Fashion Product Images" data set into ``data_dir``.

The workflow runs this only when ``data_dir`` has no ``styles.csv``, on the login node
(compute nodes are often offline). It needs the ``kaggle`` package and a Kaggle API
token. Without a token it raises an error that names where to put the data by hand.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

# Name of the staging directory inside data_dir. A download killed half-way leaves it
# behind, and the next attempt deletes it first.
STAGING_NAME = ".kaggle-download"


class DownloadError(RuntimeError):
    """A download that cannot run or finish. The message states what to do instead."""


class DatasetApi(Protocol):
    """The part of ``kaggle.api.kaggle_api_extended.KaggleApi`` used here."""

    def authenticate(self) -> None: ...

    def dataset_download_files(self, dataset: str, path: str, unzip: bool, quiet: bool) -> Any: ...


def find_kaggle_token(env: Mapping[str, str] | None = None, home: Path | None = None) -> str | None:
    """Return where a Kaggle API token was found, or None when there is none.

    Looks where the kaggle package looks: the variables KAGGLE_USERNAME and
    KAGGLE_KEY, KAGGLE_API_TOKEN, then kaggle.json in $KAGGLE_CONFIG_DIR or ~/.kaggle.
    """
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if env.get("KAGGLE_USERNAME") and env.get("KAGGLE_KEY"):
        return "environment variables KAGGLE_USERNAME and KAGGLE_KEY"
    if env.get("KAGGLE_API_TOKEN"):
        return "environment variable KAGGLE_API_TOKEN"
    token_file = token_path(env, home)
    if token_file.is_file():
        return str(token_file)
    return None


def token_path(env: Mapping[str, str], home: Path) -> Path:
    """Return the kaggle.json path that the kaggle package reads."""
    config_dir = env.get("KAGGLE_CONFIG_DIR")
    return Path(config_dir) / "kaggle.json" if config_dir else home / ".kaggle" / "kaggle.json"


def manual_instructions(data_dir: Path, dataset: str, token_file: Path) -> str:
    """Return the instructions for providing the data without a token."""
    return (
        f"Either put the data set in the Kaggle layout at {data_dir}/styles.csv and "
        f"{data_dir}/images/<id>.jpg (download https://www.kaggle.com/datasets/{dataset} "
        f"on a machine with a browser and unzip it there), or save your Kaggle API token "
        f"at {token_file} (Kaggle > Settings > API > Create New Token) and install the "
        f"kaggle package (pip install kaggle), then rerun the workflow."
    )


def load_kaggle_api() -> DatasetApi:
    """Return an authenticated KaggleApi from the kaggle package."""
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError as error:
        raise DownloadError(
            f"the kaggle package is not installed ({error}). Install it with "
            "`pip install kaggle` or put the data in data_dir by hand"
        ) from error
    api = KaggleApi()
    try:
        api.authenticate()
    except OSError as error:
        raise DownloadError(f"Kaggle authentication failed: {error}") from error
    return api


def find_layout_root(directory: Path) -> Path:
    """Return the shallowest directory under ``directory`` with styles.csv and images/.

    The archives of this data set put both at different depths (for example under
    fashion-dataset/), so the root is searched for instead of assumed.
    """
    candidates = sorted(
        (styles.parent for styles in directory.rglob("styles.csv") if (styles.parent / "images").is_dir()),
        key=lambda path: (len(path.relative_to(directory).parts), str(path)),
    )
    if not candidates:
        found = sorted(str(path.relative_to(directory)) for path in directory.iterdir())
        raise DownloadError(
            f"the downloaded archive has no styles.csv beside an images/ directory. "
            f"Its top level contains {found}"
        )
    return candidates[0]


def download_dataset(
    dataset: str,
    data_dir: str | os.PathLike,
    api: DatasetApi | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Path:
    """Download ``dataset`` from Kaggle and fill ``data_dir`` with styles.csv and images/.

    ``api`` replaces the kaggle package's client (tests pass a local stand-in).
    styles.csv is moved into place last, so a download killed half-way never looks
    complete to the workflow. Returns the path of styles.csv.
    """
    data_dir = Path(data_dir)
    styles_target = data_dir / "styles.csv"
    images_target = data_dir / "images"
    if styles_target.exists():
        raise DownloadError(f"{styles_target} already exists. Delete it to download again")
    if images_target.exists():
        raise DownloadError(
            f"{images_target} exists but {styles_target} does not. Add styles.csv from the "
            f"same Kaggle archive, or move the images away to download both again"
        )

    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if api is None:
        token = find_kaggle_token(env, home)
        if token is None:
            raise DownloadError(
                f"no data in {data_dir} and no Kaggle API token found. "
                + manual_instructions(data_dir, dataset, token_path(env, home))
            )
        log.info("using the Kaggle API token from %s", token)
        api = load_kaggle_api()

    staging = data_dir / STAGING_NAME
    if staging.exists():
        log.warning("deleting %s left by an earlier download that did not finish", staging)
        shutil.rmtree(staging)
    staging.mkdir(parents=True)

    log.info("downloading Kaggle data set %s into %s", dataset, staging)
    api.dataset_download_files(dataset, path=str(staging), unzip=True, quiet=False)
    root = find_layout_root(staging)
    image_count = sum(1 for _ in (root / "images").iterdir())
    log.info("archive root %s: styles.csv and %d files in images/", root, image_count)

    # Both renames stay inside data_dir, on one file system, so each is atomic.
    os.replace(root / "images", images_target)
    os.replace(root / "styles.csv", styles_target)
    shutil.rmtree(staging)
    log.info("data set ready in %s", data_dir)
    return styles_target
