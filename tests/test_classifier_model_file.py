"""Files passed as a trained classifier that are not one."""

import shutil

import pytest
import torch

from lookbook.classifier.models import ModelFileError, load_trained
from lookbook.cli import main


@pytest.mark.parametrize("content", [b"not a model\n", b"\xff\xd8\xff\xe0 jpeg bytes"])
def test_load_trained_rejects_non_torch_file(tmp_path, content):
    path = tmp_path / "best.pt"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="is not a lookbook classifier model"):
        load_trained(path)


def test_load_trained_rejects_torch_file_without_keys(tmp_path):
    path = tmp_path / "checkpoint.pt"
    torch.save({"generator": {}}, path)
    with pytest.raises(ModelFileError, match=r"keys \['arch', 'classes'"):
        load_trained(path)


def test_predict_cli_bad_model_exits_2(tmp_path, capsys):
    model = tmp_path / "model.pt"
    model.write_text("not a model")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"")
    status = main(["predict", "--model", str(model), str(photo)])
    assert status == 2
    assert "is not a lookbook classifier model" in capsys.readouterr().err
