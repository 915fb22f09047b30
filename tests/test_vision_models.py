"""ember.vision.models: torchvision's ResNet family with random weights. Parameter counts are
torchvision's published ones; forward and gradients match a PyTorch network built from
torch.nn layer by layer and given ember's weights; pretrained weights raise."""
import warnings

import numpy as np
import pytest

import ember
from ember.testing import assert_close
from ember.vision import models

# torchvision's documented num_params of each builder (1000 classes).
NUM_PARAMS = {"resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032,
              "resnext50_32x4d": 25028904, "wide_resnet50_2": 68883240}


@pytest.mark.parametrize("name", sorted(NUM_PARAMS))
def test_builders_have_torchvisions_parameter_counts(name):
    model = getattr(models, name)()
    assert sum(p.numel() for p in model.parameters()) == NUM_PARAMS[name]


def test_state_dict_names_are_torchvisions():
    keys = set(models.resnet18().state_dict())
    for key in ("conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked",
                "layer1.0.conv2.weight", "layer2.0.downsample.0.weight",
                "layer2.0.downsample.1.running_var", "layer4.1.bn2.bias", "fc.weight", "fc.bias"):
        assert key in keys
    assert "layer1.0.downsample.0.weight" not in keys  # layer1 keeps 64 channels, stride 1
    assert "layer1.0.downsample.0.weight" in models.resnet50().state_dict()


def torch_resnet(torch, bottleneck, layers, groups=1, width=64, dilate=(False,) * 3,
                 num_classes=10):
    """The ResNet of the paper and torchvision, written with torch.nn for the comparison."""
    nn = torch.nn
    expansion = 4 if bottleneck else 1

    class Block(nn.Module):
        def __init__(self, inplanes, planes, stride, downsample, dilation):
            super().__init__()
            if bottleneck:
                mid = int(planes * width / 64) * groups
                shapes = [(inplanes, mid, 1, 1, 0, 1), (mid, mid, 3, stride, dilation, groups),
                          (mid, planes * 4, 1, 1, 0, 1)]
            else:
                shapes = [(inplanes, planes, 3, stride, 1, 1), (planes, planes, 3, 1, 1, 1)]
            for k, (i, o, size, s, pad, g) in enumerate(shapes, 1):
                dil = dilation if size == 3 and bottleneck else 1
                setattr(self, f"conv{k}", nn.Conv2d(i, o, size, s, pad, dilation=dil, groups=g,
                                                    bias=False))
                setattr(self, f"bn{k}", nn.BatchNorm2d(o))
            self.n, self.downsample = len(shapes), downsample

        def forward(self, x):
            out = x
            for k in range(1, self.n + 1):
                out = getattr(self, f"bn{k}")(getattr(self, f"conv{k}")(out))
                if k < self.n:
                    out = torch.relu(out)
            return torch.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            inplanes, dilation = 64, 1
            for n, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers), 1):
                stride = 1 if n == 1 else 2
                previous = dilation
                if n > 1 and dilate[n - 2]:
                    dilation, stride = dilation * stride, 1
                down = None
                if stride != 1 or inplanes != planes * expansion:
                    down = nn.Sequential(nn.Conv2d(inplanes, planes * expansion, 1, stride,
                                                   bias=False), nn.BatchNorm2d(planes * expansion))
                blocks_ = [Block(inplanes, planes, stride, down, previous)]
                inplanes = planes * expansion
                blocks_ += [Block(inplanes, planes, 1, None, dilation) for _ in range(blocks - 1)]
                setattr(self, f"layer{n}", nn.Sequential(*blocks_))
            self.fc = nn.Linear(512 * expansion, num_classes)

        def forward(self, x):
            x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(x.mean((2, 3)), 1))

    return Net()


CASES = [  # ember model, the torch reference's arguments
    (lambda: models.resnet18(num_classes=10), dict(bottleneck=False, layers=[2, 2, 2, 2])),
    (lambda: models.ResNet(models.Bottleneck, [1, 2, 1, 1], num_classes=10, groups=2,
                           width_per_group=32, replace_stride_with_dilation=[False, True, True]),
     dict(bottleneck=True, layers=[1, 2, 1, 1], groups=2, width=32, dilate=(False, True, True))),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("train", [True, False])
def test_forward_and_gradients_match_pytorch(case, train):
    torch = pytest.importorskip("torch")
    make, reference_args = CASES[case]
    ember.manual_seed(0)
    model = make()
    reference = torch_resnet(torch, **reference_args)
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    reference.load_state_dict(state)
    model.train(train)
    reference.train(train)
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40)).astype(np.float32)
    ours, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = model(ours), reference(xt)
    assert_close(out.detach().numpy(), expected.detach().numpy(), rtol=1e-4, atol=1e-4)
    out.square().sum().backward()
    expected.square().sum().backward()
    assert_close(ours.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-4)
    assert_close(model.layer1[0].conv1.weight.grad.numpy(),
                 reference.layer1[0].conv1.weight.grad.numpy(), rtol=1e-3, atol=1e-4)
    if train:  # batch statistics were tracked as PyTorch tracks them
        assert_close(model.layer2[0].bn1.running_var.numpy(),
                     reference.layer2[0].bn1.running_var.numpy(), rtol=1e-4, atol=1e-5)


def test_initialisation_is_torchvisions():
    ember.manual_seed(0)
    model = models.resnet50(zero_init_residual=True)
    weight = model.layer3[0].conv2.weight.detach().numpy()  # kaiming normal, fan_out, relu gain
    fan_out = weight.shape[0] * weight.shape[2] * weight.shape[3]
    assert weight.std() == pytest.approx(np.sqrt(2 / fan_out), rel=0.03)
    assert (model.bn1.weight.detach().numpy() == 1).all() and (model.bn1.bias.detach().numpy() == 0).all()
    assert (model.layer1[0].bn3.weight.detach().numpy() == 0).all()
    assert (model.layer1[0].bn2.weight.detach().numpy() == 1).all()
    assert (models.resnet18(zero_init_residual=True).layer2[1].bn2.weight.detach().numpy() == 0).all()
    assert (models.resnet18().layer2[1].bn2.weight.detach().numpy() == 1).all()


def test_pretrained_weights_raise_naming_the_builder():
    with pytest.raises(NotImplementedError, match="resnet18: ember cannot download"):
        models.resnet18(weights="DEFAULT")
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        with pytest.raises(NotImplementedError, match="resnet50: ember cannot download"):
            models.resnet50(pretrained=True)
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        assert isinstance(models.resnet18(pretrained=False), models.ResNet)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        models.resnet18(weights=None, progress=False)


def test_bad_arguments_raise_as_in_torchvision():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="should be None or a 3-element tuple"):
        models.resnet50(replace_stride_with_dilation=[False, True])
    with pytest.raises(ValueError, match="'groups' expected value 32 but got 8"):
        models.resnext50_32x4d(groups=8)


def test_a_torchvision_script_swaps_the_first_conv_and_the_head():
    # pytorch/examples siamese_network: a 1-channel stem and the layers before fc.
    import ember.vision as torchvision
    resnet = torchvision.models.resnet18(weights=None)
    resnet.conv1 = ember.nn.Conv2d(1, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3),
                                   bias=False)
    features = ember.nn.Sequential(*(list(resnet.children())[:-1]))
    assert features(ember.randn(2, 1, 28, 28)).shape == (2, resnet.fc.in_features, 1, 1)
