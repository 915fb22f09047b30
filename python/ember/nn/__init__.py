"""ember.nn: PyTorch-style modules, parameters, functional ops and initialisers."""
from . import functional, init, parallel, utils
from ._uninitialized import UninitializedBuffer, UninitializedParameter
from .module import Module
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parallel import DataParallel
from .parameter import Parameter

__all__ = ["Module", "Parameter", "functional", "init", "utils"] + _modules_all
__all__ += ["DataParallel", "parallel"]
__all__ += ["UninitializedBuffer", "UninitializedParameter"]
