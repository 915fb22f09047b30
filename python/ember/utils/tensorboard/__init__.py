"""ember.utils.tensorboard: TensorBoard logging as torch.utils.tensorboard, through tensorboardX
(the optional extra ``pip install "ember[tensorboard]"``)."""
from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
