"""ember.vision.models: torchvision's model builders, built with random weights (weights=None).

Pretrained weights cannot be downloaded; a torchvision state_dict saved to a local file loads
with ``model.load_state_dict(ember.load(path))`` because the parameter names are torchvision's.
"""
from .resnet import (BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101,
                     resnet152, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d,
                     wide_resnet50_2, wide_resnet101_2)

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
           "wide_resnet50_2", "wide_resnet101_2"]
