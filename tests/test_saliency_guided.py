"""Guided backpropagation and Grad-CAM on a hand-computed network and torchvision models."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from captum.attr import GuidedBackprop
from torch import nn
from torchvision.models import densenet121, resnet18, resnet50

from lookbook.saliency.gradcam import grad_cam, last_stage_name
from lookbook.saliency.guided import NormalizedModel, eval_mode, guided_backprop, to_input

IDENTITY = ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


class PixelNet(nn.Module):
    """Two-layer ReLU net on the first two pixels of channel 0 of a [N, 3, 1, 2] image."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(2, 3, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.head = nn.Linear(3, 2, bias=False)
        with torch.no_grad():
            self.hidden.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))
            self.head.weight.copy_(torch.tensor([[2.0, -3.0, 5.0], [1.0, 1.0, 1.0]]))

    def forward(self, x):
        return self.head(self.relu(self.hidden(x[:, 0, 0, :])))


def hook_count(model: nn.Module) -> int:
    return sum(
        len(module._forward_hooks)
        + len(module._forward_pre_hooks)
        + len(module._backward_hooks)
        + len(module._backward_pre_hooks)
        for module in model.modules()
    )


def snapshot(model: nn.Module) -> dict:
    return {
        "state": {key: value.detach().clone() for key, value in model.state_dict().items()},
        "training": {name: module.training for name, module in model.named_modules()},
        "inplace": {name: module.inplace for name, module in model.named_modules() if isinstance(module, nn.ReLU)},
        "requires_grad": {name: p.requires_grad for name, p in model.named_parameters()},
    }


def assert_unchanged(model: nn.Module, before: dict) -> None:
    after = snapshot(model)
    assert after["state"].keys() == before["state"].keys()
    for key, value in before["state"].items():
        assert torch.equal(after["state"][key], value), key
    assert after["training"] == before["training"]
    assert after["inplace"] == before["inplace"]
    assert after["requires_grad"] == before["requires_grad"]
    assert all(p.grad is None for p in model.parameters())


class GuidedReLU(torch.autograd.Function):
    """Reference guided ReLU written as an autograd function, independent of Captum's hooks."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output.clamp(min=0) * (x > 0)


class GuidedReLUModule(nn.Module):
    def forward(self, x):
        return GuidedReLU.apply(x)


def reference_guided(model: NormalizedModel, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Plain autograd through a copy whose ReLU modules are replaced by GuidedReLU."""
    reference = copy.deepcopy(model).eval()
    for module in list(reference.modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.ReLU):
                setattr(module, name, GuidedReLUModule())
    inputs = images.clone().requires_grad_(True)
    logits = reference(inputs)
    (grad,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), inputs)
    return grad


@pytest.fixture(scope="module")
def small_images():
    generator = np.random.default_rng(0)
    return to_input(generator.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8))


def test_guided_backprop_matches_hand_computation():
    # x = (1, 2) gives hidden pre-activations (1, 2, -1), so unit 3 is off. Target 0
    # sends (2, -3, 5) back to the ReLU. Guided backprop keeps only the positive
    # gradients of active units, (2, 0, 0), and W1^T (2, 0, 0) = (2, 0).
    # The plain gradient would be (2, -3).
    model = NormalizedModel(PixelNet(), *IDENTITY)
    image = torch.zeros(1, 3, 1, 2)
    image[0, 0, 0] = torch.tensor([1.0, 2.0])
    grad = guided_backprop(model, image, torch.tensor([0]))
    assert grad[0, 0, 0].tolist() == [2.0, 0.0]
    assert grad[0, 1:].abs().sum().item() == 0.0


def test_guided_backprop_divides_by_std():
    # The gradient with respect to the un-normalized image is the normalized one over std.
    std = [0.5, 0.25, 0.125]
    model = NormalizedModel(PixelNet(), [0.1, 0.2, 0.3], std)
    image = torch.zeros(1, 3, 1, 2)
    image[0, 0, 0] = torch.tensor([0.6, 1.1])  # normalized: (1, 2), as in the hand case
    grad = guided_backprop(model, image, torch.tensor([0]))
    assert grad[0, 0, 0].tolist() == [4.0, 0.0]


def test_guided_backprop_input_without_grad_keeps_flag():
    model = NormalizedModel(PixelNet(), *IDENTITY)
    image = torch.zeros(1, 3, 1, 2)
    image[0, 0, 0] = torch.tensor([1.0, 2.0])
    grad = guided_backprop(model, image, torch.tensor([0]))
    assert image.requires_grad is False
    assert grad.abs().sum().item() == 2.0


@pytest.mark.parametrize("builder", [resnet18, resnet50], ids=["basicblock", "bottleneck"])
def test_guided_backprop_resnet_matches_reference(builder, small_images):
    torch.manual_seed(0)
    model = NormalizedModel(builder(num_classes=6), *IMAGENET)
    targets = torch.tensor([0, 5, 2, 3])
    grad = guided_backprop(model, small_images, targets)
    expected = reference_guided(model, small_images, targets)
    assert grad.shape == (4, 3, 32, 32)
    assert grad.abs().sum().item() > 0
    torch.testing.assert_close(grad, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("builder", [resnet18, resnet50], ids=["basicblock", "bottleneck"])
def test_guided_backprop_resnet_leaves_model_unchanged(builder, small_images):
    torch.manual_seed(0)
    net = builder(num_classes=6)
    net.train()  # the caller's mode must come back, even though maps run in eval mode
    model = NormalizedModel(net, *IMAGENET)
    model.train()
    before = snapshot(model)
    guided_backprop(model, small_images, torch.tensor([1, 1, 1, 1]))
    assert hook_count(model) == 0
    assert_unchanged(model, before)


def test_guided_backprop_removes_hooks_on_error(small_images):
    model = NormalizedModel(resnet18(num_classes=6), *IMAGENET)
    with pytest.raises(RuntimeError, match="out of bounds"):
        guided_backprop(model, small_images, torch.tensor([9, 9, 9, 9]))  # no class 9
    assert hook_count(model) == 0


def test_guided_backprop_batch_equals_single_calls(small_images):
    torch.manual_seed(0)
    net = resnet18(num_classes=6)
    model = NormalizedModel(net, *IMAGENET)
    model.train()  # would mix batch statistics into each map if not put in eval mode
    targets = torch.tensor([0, 1, 2, 3])
    batch = guided_backprop(model, small_images, targets)
    singles = torch.cat([guided_backprop(model, small_images[i : i + 1], targets[i : i + 1]) for i in range(4)])
    torch.testing.assert_close(batch, singles, rtol=1e-4, atol=1e-6)


def test_guided_backprop_plain_model_matches_captum(small_images):
    # The wrapper must not change what Captum computes on a model without normalization.
    torch.manual_seed(0)
    net = resnet18(num_classes=6).eval()
    model = NormalizedModel(net, *IDENTITY)
    targets = torch.tensor([4, 0, 1, 2])
    ours = guided_backprop(model, small_images, targets)
    with pytest.warns(UserWarning):
        captum = GuidedBackprop(net).attribute(small_images.clone().requires_grad_(True), target=targets.tolist())
    torch.testing.assert_close(ours, captum, rtol=1e-5, atol=1e-7)


def test_normalized_model_densenet_logits_match():
    torch.manual_seed(0)
    net = densenet121(num_classes=6).eval()
    model = NormalizedModel(net, *IDENTITY)
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(images), net(images))


def test_guided_backprop_densenet_matches_reference():
    # DenseNet applies F.relu after its features, and the wrapper's ReLU module makes it guided.
    torch.manual_seed(0)
    model = NormalizedModel(densenet121(num_classes=6), *IMAGENET)
    images = torch.rand(2, 3, 32, 32)
    targets = torch.tensor([1, 4])
    grad = guided_backprop(model, images, targets)
    torch.testing.assert_close(grad, reference_guided(model, images, targets), rtol=1e-4, atol=1e-6)


def test_grad_cam_resnet_shape_and_hooks(small_images):
    torch.manual_seed(0)
    model = NormalizedModel(resnet50(num_classes=6), *IMAGENET)
    before = snapshot(model)
    cam = grad_cam(model, small_images, torch.tensor([0, 1, 2, 3]))
    assert last_stage_name(model) == "model.layer4"
    assert cam.shape == (4, 32, 32)
    assert cam.min().item() >= 0.0
    assert grad_cam(model, small_images, torch.tensor([0, 1, 2, 3]), upsample=False).shape == (4, 1, 1)
    assert hook_count(model) == 0
    assert_unchanged(model, before)


def test_grad_cam_matches_hand_weights(small_images):
    # Grad-CAM = ReLU(sum_k mean(dy/dA_k) * A_k) at layer4, then bilinear upsampling.
    torch.manual_seed(0)
    model = NormalizedModel(resnet18(num_classes=6), *IMAGENET).eval()
    targets = torch.tensor([2, 2, 5, 0])
    activations = {}
    handle = model.model.layer4.register_forward_hook(lambda m, i, o: activations.setdefault("a", o))
    try:
        logits = model(small_images)
    finally:
        handle.remove()
    layer = activations["a"]
    (grad,) = torch.autograd.grad(logits.gather(1, targets[:, None]).sum(), layer)
    expected = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * layer).sum(dim=1, keepdim=True))
    expected = torch.nn.functional.interpolate(expected, size=(32, 32), mode="bilinear")[:, 0]
    torch.testing.assert_close(grad_cam(model, small_images, targets), expected.detach(), rtol=1e-4, atol=1e-6)


def test_eval_mode_restores_mixed_flags():
    model = NormalizedModel(resnet18(num_classes=6), *IMAGENET)
    model.train()
    model.model.layer1.eval()
    with eval_mode(model):
        assert not any(module.training for module in model.modules())
    assert model.model.layer1.training is False
    assert model.model.layer2.training is True


def test_to_input_rejects_float_images():
    with pytest.raises(ValueError, match="expected uint8 RGB images"):
        to_input(np.zeros((1, 8, 8, 3), dtype=np.float32))
