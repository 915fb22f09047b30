"""The `weights` / legacy `pretrained` arguments of torchvision's model builders."""
import warnings


def refuse_pretrained(builder, weights, kwargs):
    """torchvision downloads pretrained weights; ember cannot, so anything but weights=None
    (or the deprecated pretrained=False, with torchvision's warning) raises."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed "
                      "in the future, please use 'weights' instead.", UserWarning, stacklevel=3)
        if pretrained:
            weights = "DEFAULT"
    if weights is not None:
        raise NotImplementedError(
            f"{builder}: ember cannot download pretrained weights (weights={weights!r}); build "
            f"with weights=None and load a torchvision state_dict saved to a local file with "
            f"model.load_state_dict(ember.load(path))")
