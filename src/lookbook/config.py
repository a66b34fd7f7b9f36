"""Configuration: preset merging, schema validation with defaults, and cross-field checks.

The workflow and the command line share this code, so a config that the workflow
accepts means the same thing to ``lookbook`` commands and tests.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"
PRESETS_DIR = REPO_ROOT / "workflow" / "presets"


def export_source_path() -> None:
    """Put this checkout's ``src`` first on PYTHONPATH for the jobs the workflow starts.

    Jobs inherit the environment (SLURM jobs too, through sbatch's default export), so
    their scripts import this checkout's package even in a conda env without it.
    """
    source = str(REPO_ROOT / "src")
    paths = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    if source not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([source, *paths])


class ConfigError(ValueError):
    """An invalid configuration value; the message names the key and the fix."""


def preset_name(config: dict[str, Any]) -> str:
    """Return the preset that ``config`` selects, resolving auto from data_dir."""
    name = config.get("preset", "auto")
    if name == "auto":
        return "demo" if config.get("data_dir") in (None, "") else "study"
    return name


def load_preset(name: str, presets_dir: Path = PRESETS_DIR) -> dict[str, Any]:
    path = presets_dir / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in presets_dir.glob("*.yaml"))
        raise ConfigError(f"preset {name!r} not found in {presets_dir}; use one of {known}")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated by ``override``; nested dicts merge, other values replace."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_preset(config: dict[str, Any], presets_dir: Path = PRESETS_DIR) -> dict[str, Any]:
    """Return the preset's values overridden by ``config``, with preset set to the resolved name."""
    name = preset_name(config)
    merged = deep_merge(load_preset(name, presets_dir), config)
    merged["preset"] = name
    return merged


def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def validate(config: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate ``config`` in place, filling schema defaults, and return it.

    Raises ConfigError naming the offending key, its value and what is allowed.
    """
    schema = schema if schema is not None else load_schema()
    validator = _validator_with_defaults(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("\n".join(_describe(error) for error in errors))
    check_consistency(config)
    return config


def resolve(config: dict[str, Any], presets_dir: Path = PRESETS_DIR) -> dict[str, Any]:
    """Merge the preset into ``config``, convert command-line strings, and validate the result."""
    schema = load_schema()
    merged = merge_preset(config, presets_dir)
    coerce_strings(merged, schema)
    return validate(merged, schema)


def coerce_strings(config: Any, schema: dict[str, Any]) -> None:
    """Convert, in place, strings where the schema expects a number, boolean or null.

    Snakemake passes the values inside ``--config 'classifier={"epochs": 10}'`` as
    strings. Each one is parsed as a YAML scalar and kept only when the result has the
    type the schema expects, so an invalid value still reaches the validator unchanged.
    """
    if not isinstance(config, dict):
        return
    for name, subschema in schema.get("properties", {}).items():
        if name not in config:
            continue
        value = config[name]
        if isinstance(value, dict):
            coerce_strings(value, subschema)
        elif isinstance(value, str):
            config[name] = _parse_scalar(value, subschema)


def _parse_scalar(value: str, schema: dict[str, Any]) -> Any:
    allowed = schema.get("type", [])
    allowed = [allowed] if isinstance(allowed, str) else allowed
    if "string" in allowed or not allowed:
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(parsed, str) and "number" in allowed:
        # YAML 1.1 reads "3e-4" (no dot) as a string; Python's float does not.
        try:
            parsed = float(value)
        except ValueError:
            return value
    matches = {
        "integer": isinstance(parsed, int) and not isinstance(parsed, bool),
        "number": isinstance(parsed, (int, float)) and not isinstance(parsed, bool),
        "boolean": isinstance(parsed, bool),
        "null": parsed is None,
    }
    return parsed if any(matches.get(kind, False) for kind in allowed) else value


def check_consistency(config: dict[str, Any]) -> None:
    """Check rules that span several keys, which JSON schema cannot express."""
    split = config.get("split", {})
    shares = [split.get(name) for name in ("train", "val", "test")]
    if all(share is not None for share in shares) and abs(sum(shares) - 1.0) > 1e-6:
        raise ConfigError(
            f"split shares train={shares[0]}, val={shares[1]}, test={shares[2]} sum to {sum(shares):.4f}; "
            "set them so that they sum to 1"
        )


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(part) for part in error.absolute_path) or "(top level)"
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"config key {key}: {error.message}; allowed keys here: {allowed}"
    if error.validator == "enum":
        return f"config key {key}: value {error.instance!r} is invalid; allowed values: {error.validator_value}"
    if error.validator == "const":
        reason = error.schema.get("description", "")
        return f"config key {key}: value {error.instance!r} is invalid; the only allowed value is {error.validator_value!r}. {reason}".rstrip()
    return f"config key {key}: {error.message}"


def _validator_with_defaults(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """Build a Draft 2020-12 validator that also inserts each missing property's default."""
    base = jsonschema.Draft202012Validator
    validate_properties = base.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    extended = jsonschema.validators.extend(base, {"properties": set_defaults})
    return extended(schema)
