"""Differentiable ops (autograd Functions), one file per family."""
