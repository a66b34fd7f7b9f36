"""The conda environment and requirements.txt must pin the same packages."""

import yaml


def read_requirements(path):
    lines = path.read_text().splitlines()
    return sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def test_environment_pins_equal_requirements(repo_root):
    environment = yaml.safe_load((repo_root / "environment.yml").read_text())
    pip_section = next(item for item in environment["dependencies"] if isinstance(item, dict))
    assert sorted(pip_section["pip"]) == read_requirements(repo_root / "requirements.txt")


def test_requirements_pin_torch_exactly(repo_root):
    pins = read_requirements(repo_root / "requirements.txt")
    assert "torch==2.14.1" in pins
    assert "torchvision==0.29.1" in pins
