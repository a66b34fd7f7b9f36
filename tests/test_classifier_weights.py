"""ImageNet weights: lookup in the torch hub cache, explicit files, the missing-file error, download."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
import torch
from torchvision.models import get_model

from lookbook.classifier import weights
from lookbook.classifier.models import build_model


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME, so no weights file of the machine is found by accident."""
    home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    return home


def _imagenet_file(path: Path, arch: str = "resnet18", seed: int = 1) -> dict[str, torch.Tensor]:
    """Write a randomly initialised 1000-class ``arch`` state dict to ``path``, as torchvision ships it."""
    torch.manual_seed(seed)
    state_dict = get_model(arch, weights=None).state_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state_dict, path)
    return state_dict


def test_weights_file_name_resnet152_is_v2():
    assert weights.weights_file_name("resnet152") == "resnet152-f82ba261.pth"


def test_weights_file_name_resnet18():
    assert weights.weights_file_name("resnet18") == "resnet18-f37072fd.pth"


def test_hub_checkpoint_dir_follows_torch_home(torch_home):
    assert weights.hub_checkpoint_dir() == torch_home / "hub" / "checkpoints"


def test_build_model_loads_hub_cache_file(torch_home):
    expected = _imagenet_file(torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth")
    model = build_model("resnet18", 6, pretrained="imagenet")
    assert torch.equal(model.conv1.weight, expected["conv1.weight"])
    assert torch.equal(model.layer4[1].bn2.running_var, expected["layer4.1.bn2.running_var"])
    assert model.fc.out_features == 6


def test_build_model_loads_explicit_weights_path(tmp_path, torch_home):
    expected = _imagenet_file(tmp_path / "my-weights.pth", seed=2)
    model = build_model("resnet18", 6, pretrained="imagenet", weights_path=tmp_path / "my-weights.pth")
    assert torch.equal(model.layer1[0].conv1.weight, expected["layer1.0.conv1.weight"])


def test_densenet_old_key_names_load(torch_home):
    state_dict = _imagenet_file(torch_home / "scratch.pth", arch="densenet121")
    # torchvision's published densenet121 file predates num_batches_tracked and uses the
    # old layer names such as ``norm.1``.
    old_names = {
        key.replace("denselayer1.norm1.", "denselayer1.norm.1."): value
        for key, value in state_dict.items()
        if not key.endswith("num_batches_tracked")
    }
    path = torch_home / "hub" / "checkpoints" / "densenet121-a639ec97.pth"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(old_names, path)
    model = build_model("densenet121", 6, pretrained="imagenet")
    loaded = model.features.denseblock1.denselayer1.norm1.weight
    assert torch.equal(loaded, state_dict["features.denseblock1.denselayer1.norm1.weight"])


def test_missing_weights_error_names_file_and_directory(torch_home):
    with pytest.raises(weights.MissingWeightsError) as caught:
        build_model("resnet152", 6, pretrained="imagenet")
    message = str(caught.value)
    assert "resnet152-f82ba261.pth" in message
    assert str(torch_home / "hub" / "checkpoints") in message
    assert "fetch_weights" in message


def test_missing_explicit_path_error_names_key(tmp_path, torch_home):
    with pytest.raises(weights.MissingWeightsError, match="classifier.weights_path="):
        build_model("resnet18", 6, pretrained="imagenet", weights_path=tmp_path / "absent.pth")


class _LocalWeights:
    """Stands in for a torchvision weights enum member, with its URL on a localhost server."""

    def __init__(self, url: str):
        self.url = url

    def get_state_dict(self, progress: bool, check_hash: bool):
        # The real enum member calls this same torch.hub function with its own URL.
        return torch.hub.load_state_dict_from_url(self.url, progress=progress, check_hash=False)


@pytest.fixture
def weights_server(tmp_path):
    """Serve tmp_path/served over HTTP on localhost; yields (directory, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_weights_downloads_into_hub_cache(torch_home, weights_server, monkeypatch):
    served, base_url = weights_server
    expected = _imagenet_file(served / "resnet18-f37072fd.pth")
    monkeypatch.setattr(weights, "imagenet_weights", lambda arch: _LocalWeights(f"{base_url}/resnet18-f37072fd.pth"))
    path = weights.fetch_weights("resnet18")
    assert path == torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    assert torch.equal(torch.load(path, weights_only=True)["fc.weight"], expected["fc.weight"])


def test_fetch_weights_failure_names_directory(torch_home, weights_server, monkeypatch):
    _, base_url = weights_server
    monkeypatch.setattr(weights, "imagenet_weights", lambda arch: _LocalWeights(f"{base_url}/resnet18-f37072fd.pth"))
    with pytest.raises(weights.MissingWeightsError) as caught:
        weights.fetch_weights("resnet18")
    assert str(torch_home / "hub" / "checkpoints") in str(caught.value)
    assert not (torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth").exists()


def test_fetch_weights_skips_present_file(torch_home, monkeypatch):
    path = torch_home / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    _imagenet_file(path)
    before = path.stat().st_mtime_ns

    class NoDownload(_LocalWeights):
        def get_state_dict(self, progress, check_hash):
            raise AssertionError("fetch_weights must not download a file that is present")

    url = "http://127.0.0.1:9/resnet18-f37072fd.pth"
    monkeypatch.setattr(weights, "imagenet_weights", lambda arch: NoDownload(url))
    assert weights.fetch_weights("resnet18") == path
    assert path.stat().st_mtime_ns == before
