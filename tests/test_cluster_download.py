"""The Kaggle download (lookbook.fetch and rule download_kaggle) without a network.

A stand-in for the kaggle package, written by the tests onto PYTHONPATH, serves a zip
archive built from a few files, in the nested layout of the real archive.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lookbook.fetch import STAGING_NAME, DownloadError, download_dataset, find_kaggle_token

REPO_ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
DATASET = "paramaggarwal/fashion-product-images-dataset"
STYLES = (
    "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n"
    "15970,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Turtle Check Men Navy Blue Shirt\n"
)

# Stand-in for kaggle.api.kaggle_api_extended: authenticate() needs the token file that
# the real package reads, dataset_download_files() extracts the archive that
# FAKE_KAGGLE_ARCHIVE names instead of downloading one.
FAKE_KAGGLE_API = '''
import os
import zipfile
from pathlib import Path


class KaggleApi:
    def authenticate(self):
        token = Path(os.environ["KAGGLE_CONFIG_DIR"]) / "kaggle.json"
        if not token.is_file():
            raise OSError(f"Could not find {token}")

    def dataset_download_files(self, dataset, path=None, force=False, quiet=True, unzip=False):
        Path(path, "requested-dataset").write_text(dataset)
        with zipfile.ZipFile(os.environ["FAKE_KAGGLE_ARCHIVE"]) as archive:
            archive.extractall(path)
'''


class FakeApi:
    """In-process stand-in that writes the archive's files where the real API unzips them."""

    def __init__(self, root: str = "fashion-dataset"):
        self.root = root
        self.calls: list[tuple[str, str]] = []

    def authenticate(self) -> None:
        pass

    def dataset_download_files(self, dataset: str, path: str, unzip: bool, quiet: bool) -> None:
        self.calls.append((dataset, path))
        root = Path(path) / self.root
        (root / "images").mkdir(parents=True)
        (root / "images" / "15970.jpg").write_bytes(b"\xff\xd8\xff\xd9")
        (root / "styles.csv").write_text(STYLES, encoding="utf-8")


def make_archive(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("fashion-dataset/styles.csv", STYLES)
        archive.writestr("fashion-dataset/images/15970.jpg", b"\xff\xd8\xff\xd9")
        archive.writestr("fashion-dataset/images.csv", "filename,link\n")
    return path


def run_snakemake(workdir: Path, data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    shutil.copy(REPO_ROOT / "config.yaml", workdir / "config.yaml")
    return subprocess.run(
        [
            str(SNAKEMAKE),
            "--snakefile",
            str(REPO_ROOT / "Snakefile"),
            "--cores",
            "1",
            *args,
            "--config",
            "preset=tiny",
            f"data_dir={data_dir}",
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """Environment without the user's Kaggle credentials: HOME moved into tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    return env


def test_find_kaggle_token_username_key(tmp_path):
    found = find_kaggle_token({"KAGGLE_USERNAME": "ada", "KAGGLE_KEY": "k"}, tmp_path)
    assert found == "environment variables KAGGLE_USERNAME and KAGGLE_KEY"


def test_find_kaggle_token_username_only(tmp_path):
    assert find_kaggle_token({"KAGGLE_USERNAME": "ada"}, tmp_path) is None


def test_find_kaggle_token_config_dir(tmp_path):
    (tmp_path / "kaggle.json").write_text('{"username": "ada", "key": "k"}')
    found = find_kaggle_token({"KAGGLE_CONFIG_DIR": str(tmp_path)}, tmp_path / "home")
    assert found == str(tmp_path / "kaggle.json")


def test_find_kaggle_token_home_file(tmp_path):
    (tmp_path / ".kaggle").mkdir()
    (tmp_path / ".kaggle" / "kaggle.json").write_text("{}")
    assert find_kaggle_token({}, tmp_path) == str(tmp_path / ".kaggle" / "kaggle.json")


def test_find_kaggle_token_absent(tmp_path):
    assert find_kaggle_token({}, tmp_path) is None


def test_download_without_token_says_where(tmp_path):
    data_dir = tmp_path / "fashion"
    with pytest.raises(DownloadError) as error:
        download_dataset(DATASET, data_dir, env={}, home=tmp_path)
    message = str(error.value)
    assert f"{data_dir}/styles.csv" in message
    assert f"{data_dir}/images/<id>.jpg" in message
    assert str(tmp_path / ".kaggle" / "kaggle.json") in message


def test_download_fills_data_dir(tmp_path):
    data_dir = tmp_path / "fashion"
    api = FakeApi()
    styles = download_dataset(DATASET, data_dir, api=api)
    assert styles == data_dir / "styles.csv"
    assert styles.read_text(encoding="utf-8") == STYLES
    assert (data_dir / "images" / "15970.jpg").is_file()
    assert api.calls == [(DATASET, str(data_dir / STAGING_NAME))]


def test_download_removes_staging(tmp_path):
    data_dir = tmp_path / "fashion"
    download_dataset(DATASET, data_dir, api=FakeApi())
    assert sorted(path.name for path in data_dir.iterdir()) == ["images", "styles.csv"]


def test_download_accepts_top_level_layout(tmp_path):
    data_dir = tmp_path / "fashion"
    download_dataset(DATASET, data_dir, api=FakeApi(root="."))
    assert (data_dir / "styles.csv").is_file()


def test_download_replaces_stale_staging(tmp_path):
    data_dir = tmp_path / "fashion"
    stale = data_dir / STAGING_NAME / "fashion-dataset" / "images"
    stale.mkdir(parents=True)
    (stale / "half.jpg").write_bytes(b"\xff")
    download_dataset(DATASET, data_dir, api=FakeApi())
    assert sorted(path.name for path in (data_dir / "images").iterdir()) == ["15970.jpg"]


def test_download_rejects_existing_images(tmp_path):
    data_dir = tmp_path / "fashion"
    (data_dir / "images").mkdir(parents=True)
    with pytest.raises(DownloadError, match="images exists but .*styles.csv does not"):
        download_dataset(DATASET, data_dir, api=FakeApi())


def test_download_rejects_archive_without_layout(tmp_path):
    class EmptyApi(FakeApi):
        def dataset_download_files(self, dataset, path, unzip, quiet):
            Path(path, "readme.txt").write_text("nothing here")

    with pytest.raises(DownloadError, match=r"no styles.csv beside an images/ directory.*readme.txt"):
        download_dataset(DATASET, tmp_path / "fashion", api=EmptyApi())


def test_download_rule_fails_without_token(tmp_path):
    data_dir = tmp_path / "fashion"
    result = run_snakemake(tmp_path, data_dir, isolated_env(tmp_path), str(data_dir / "styles.csv"))
    log = (tmp_path / "results" / "logs" / "download_kaggle" / "download_kaggle.log").read_text(encoding="utf-8")
    assert result.returncode != 0
    assert "no Kaggle API token found" in log
    assert f"{data_dir}/styles.csv" in log


def test_download_rule_uses_kaggle_package(tmp_path):
    package = tmp_path / "fake-packages" / "kaggle"
    (package / "api").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "api" / "__init__.py").write_text("")
    (package / "api" / "kaggle_api_extended.py").write_text(FAKE_KAGGLE_API)
    config_dir = tmp_path / "kaggle-config"
    config_dir.mkdir()
    (config_dir / "kaggle.json").write_text('{"username": "ada", "key": "k"}')
    env = isolated_env(tmp_path)
    env["PYTHONPATH"] = str(tmp_path / "fake-packages")
    env["KAGGLE_CONFIG_DIR"] = str(config_dir)
    env["FAKE_KAGGLE_ARCHIVE"] = str(make_archive(tmp_path / "archive.zip"))
    data_dir = tmp_path / "fashion"

    result = run_snakemake(tmp_path, data_dir, env, str(data_dir / "styles.csv"))

    assert result.returncode == 0, result.stderr[-3000:]
    assert (data_dir / "styles.csv").read_text(encoding="utf-8") == STYLES
    assert (data_dir / "images" / "15970.jpg").is_file()
    assert not (data_dir / STAGING_NAME).exists()


def test_download_rule_absent_with_data(tmp_path):
    data_dir = tmp_path / "fashion"
    (data_dir / "images").mkdir(parents=True)
    (data_dir / "styles.csv").write_text(STYLES, encoding="utf-8")
    result = run_snakemake(tmp_path, data_dir, isolated_env(tmp_path), "--list-rules")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "download_kaggle" not in result.stdout
