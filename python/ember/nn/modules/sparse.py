"""Embedding: a lookup table from integer ids to rows of a (num_embeddings, embedding_dim)
weight, PyTorch's layer (N(0, 1) initialisation, padding_idx, from_pretrained)."""
from __future__ import annotations

import numpy as np

from ..._bounds import empty_parameter
from ... import autograd
from ...dtypes import to_numpy_dtype
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .utils import _check_device, _check_int, _is_int


def _normalized_padding_idx(num_embeddings: int, padding_idx):
    """padding_idx in [0, num_embeddings) (negative values count from the end), or None."""
    if padding_idx is None:
        return None
    if not _is_int(padding_idx) or not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError("Embedding: Padding_idx must be within num_embeddings. Received: "
                         f"padding_idx={padding_idx!r}, num_embeddings={num_embeddings}")
    return int(padding_idx) % num_embeddings if padding_idx < 0 else int(padding_idx)


def _reject_unsupported(max_norm, scale_grad_by_freq, sparse) -> None:
    if max_norm is not None:
        raise NotImplementedError("Embedding: max_norm (renormalising rows in place) is not "
                                  "supported by ember")
    if scale_grad_by_freq:
        raise NotImplementedError("Embedding: scale_grad_by_freq=True is not supported by ember")
    if sparse:
        raise NotImplementedError("Embedding: sparse=True (sparse gradients) is not supported by "
                                  "ember")


class Embedding(Module):
    """Maps integer indices of any shape (...) to embeddings of shape (..., embedding_dim)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight=None, _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        _check_device("Embedding", device)
        _reject_unsupported(max_norm, scale_grad_by_freq, sparse)
        self.num_embeddings = _check_int("Embedding", "num_embeddings", num_embeddings, minimum=0)
        self.embedding_dim = _check_int("Embedding", "embedding_dim", embedding_dim, minimum=0)
        self.padding_idx = _normalized_padding_idx(self.num_embeddings, padding_idx)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if _weight is None:
            np_dtype = to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32)
            self.weight = Parameter(empty_parameter(type(self).__name__, (self.num_embeddings,
                                                    self.embedding_dim), np_dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if not isinstance(_weight, Tensor):
                _weight = Tensor._from_op(np.asarray(_weight), None)
            if list(_weight.shape) != [self.num_embeddings, self.embedding_dim]:
                raise ValueError("Embedding: Shape of weight does not match num_embeddings and "
                                 f"embedding_dim. Received: weight shape {tuple(_weight.shape)}, "
                                 f"num_embeddings={self.num_embeddings}, "
                                 f"embedding_dim={self.embedding_dim}")
            # Shares _weight's memory, as PyTorch's Parameter(_weight) does.
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self.sparse = sparse

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with autograd.no_grad():
                self.weight._array[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = "{num_embeddings}, {embedding_dim}"
        if self.padding_idx is not None:
            s += ", padding_idx={padding_idx}"
        if self.max_norm is not None:
            s += ", max_norm={max_norm}"
        if self.norm_type != 2:
            s += ", norm_type={norm_type}"
        if self.scale_grad_by_freq is not False:
            s += ", scale_grad_by_freq={scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s.format(**self.__dict__)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False):
        """An Embedding whose weight is `embeddings` (shared, not copied; frozen by default).
        The padding row is used as given, not zeroed."""
        if not isinstance(embeddings, Tensor):
            embeddings = Tensor._from_op(np.asarray(embeddings), None)
        if embeddings.dim() != 2:
            raise ValueError("Embedding.from_pretrained: Embeddings parameter is expected to be "
                             f"2-dimensional. Received: shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
