"""Every benchmarked model, one module per family, in the order of issue 7's table."""

from bench.models import cnn, dense, mnist1d, rnn

MODELS = {model.key: model for family in (dense, cnn, rnn, mnist1d) for model in family.MODELS}
