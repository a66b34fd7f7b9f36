"""Grad-CAM with Captum's ``LayerGradCam`` on the classifier's last convolutional stage."""

from __future__ import annotations

from captum.attr import LayerAttribution, LayerGradCam
from torch import Tensor, nn
from torchvision.models import VGG, DenseNet, ResNet

from lookbook.saliency.guided import NormalizedModel, eval_mode


def last_stage_name(model: NormalizedModel) -> str:
    """Return the dotted name of the last convolutional stage inside ``model``.

    Grad-CAM reads this module's output: ``layer4`` of a ResNet (7x7 at 224 px),
    ``features`` of a VGG or a DenseNet.
    """
    net = model.model
    if isinstance(net, ResNet):
        return "model.layer4"
    if isinstance(net, (VGG, DenseNet)):
        return "model.features"
    raise ValueError(
        f"no Grad-CAM layer is known for {type(net).__name__}; add its last convolutional stage to last_stage_name"
    )


def grad_cam(
    model: NormalizedModel, images: Tensor, targets: Tensor, layer_name: str | None = None, upsample: bool = True
) -> Tensor:
    """Return Grad-CAM maps of each image's target logit.

    ``images`` is float ``[N, 3, H, W]`` in [0, 1] and ``targets`` int64 ``[N]``. The map
    is the ReLU of the sum of the layer's channels, each weighted by its gradient
    averaged over positions. It is ``[N, h, w]`` at the layer's resolution (7 x 7 for a
    ResNet at 224 px), or upsampled bilinearly to ``[N, H, W]`` when ``upsample`` is true.
    """
    layer: nn.Module = model.get_submodule(layer_name or last_stage_name(model))
    with eval_mode(model):
        cam = LayerGradCam(model, layer).attribute(images, target=targets.tolist(), relu_attributions=True).detach()
    if upsample:
        cam = LayerAttribution.interpolate(cam, tuple(images.shape[-2:]), "bilinear")
    return cam[:, 0].float()
