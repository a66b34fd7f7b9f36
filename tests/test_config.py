import pytest
import yaml

from lookbook import config as lookbook_config


@pytest.fixture
def user_config(repo_root):
    with open(repo_root / "config.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_resolve_auto_preset_without_data_is_demo(user_config):
    resolved = lookbook_config.resolve(user_config)
    assert resolved["preset"] == "demo"
    assert resolved["classifier"]["arch"] == "resnet18"
    assert resolved["gan"]["lr"] == 2e-4


def test_resolve_auto_preset_with_data_is_study(user_config):
    resolved = lookbook_config.resolve({**user_config, "data_dir": "/data/fashion"})
    assert resolved["preset"] == "study"
    assert resolved["classifier"]["arch"] == "resnet152"
    assert resolved["classifier"]["epochs"] == 25
    assert resolved["classifier"]["lr"] == 1e-4


def test_resolve_user_value_overrides_preset(user_config):
    resolved = lookbook_config.resolve({**user_config, "classifier": {"epochs": 2}})
    assert resolved["classifier"]["epochs"] == 2
    assert resolved["classifier"]["arch"] == "resnet18"


def test_validate_unknown_key_names_key_and_allowed(user_config):
    with pytest.raises(lookbook_config.ConfigError) as info:
        lookbook_config.resolve({**user_config, "classifier": {"epoch": 2}})
    assert "classifier" in str(info.value)
    assert "'epoch' was unexpected" in str(info.value)
    assert "epochs" in str(info.value)


def test_validate_bad_enum_lists_allowed_values(user_config):
    with pytest.raises(lookbook_config.ConfigError) as info:
        lookbook_config.resolve({**user_config, "labels": {"scheme": "gender"}})
    assert "labels.scheme" in str(info.value)
    assert "gender_master" in str(info.value)


def test_validate_gan_size_other_than_64_rejected(user_config):
    with pytest.raises(lookbook_config.ConfigError) as info:
        lookbook_config.resolve({**user_config, "cache": {"gan_size": 128}})
    assert "cache.gan_size" in str(info.value)
    assert "64" in str(info.value)


def test_validate_split_shares_must_sum_to_one(user_config):
    with pytest.raises(lookbook_config.ConfigError) as info:
        lookbook_config.resolve({**user_config, "split": {"train": 0.8, "val": 0.1, "test": 0.15}})
    assert "sum to 1.0500" in str(info.value)


def test_load_preset_unknown_name_lists_presets():
    with pytest.raises(lookbook_config.ConfigError) as info:
        lookbook_config.load_preset("huge")
    assert "demo" in str(info.value)


def test_resolve_command_line_strings_become_numbers(user_config):
    resolved = lookbook_config.resolve({**user_config, "classifier": {"epochs": "10", "lr": "3e-4", "augment": "false"}})
    assert resolved["classifier"]["epochs"] == 10
    assert resolved["classifier"]["lr"] == 3e-4
    assert resolved["classifier"]["augment"] is False


def test_resolve_command_line_bad_number_still_rejected(user_config):
    with pytest.raises(lookbook_config.ConfigError) as info:
        lookbook_config.resolve({**user_config, "classifier": {"epochs": "ten"}})
    assert "classifier.epochs" in str(info.value)
    assert "'ten' is not of type 'integer'" in str(info.value)
