"""keras.layers: Keras layers built on ember.nn Modules and ember.nn.functional ops."""
from .activation import Activation
from .attention import AdditiveAttention, Attention
from .activity_regularization import ActivityRegularization
from .batch_normalization import BatchNormalization
from .bidirectional import Bidirectional
from .conv import Conv1D, Conv2D
from .conv_transpose import Conv1DTranspose, Conv2DTranspose
from .cropping import Cropping1D, Cropping2D
from .dense import Dense
from .depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from .dropout import Dropout
from .elu import ELU
from .embedding import Embedding
from .flatten import Flatten
from .group_normalization import GroupNormalization
from .gru import GRU
from .identity import Identity
from .global_pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                             GlobalMaxPooling2D)
from .input_layer import Input, InputLayer
from .lambda_layer import Lambda
from .layer import Layer
from .layer_normalization import LayerNormalization
from .leaky_relu import LeakyReLU
from .lstm import LSTM
from .masking import Masking
from .multi_head_attention import MultiHeadAttention
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, dot, maximum, minimum, multiply, subtract)
from .noise import AlphaDropout, GaussianDropout, GaussianNoise
from .permute import Permute
from .prelu import PReLU
from .pooling import AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D
from .preprocessing import *  # noqa: F401,F403  (its __all__ lists the classes)
from . import preprocessing as _preprocessing
from .relu import ReLU
from .repeat_vector import RepeatVector
from .reshape import Reshape
from .separable_conv import SeparableConv1D, SeparableConv2D
from .rnn import RNN
from .rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from .simple_rnn import SimpleRNN
from .softmax import Softmax
from .stacked_rnn_cells import StackedRNNCells
from .spatial_dropout import SpatialDropout1D, SpatialDropout2D
from .time_distributed import TimeDistributed
from .unit_normalization import UnitNormalization
from .up_sampling import UpSampling1D, UpSampling2D
from .zero_padding import ZeroPadding1D, ZeroPadding2D

# Keras' short aliases.
Convolution1D, Convolution2D = Conv1D, Conv2D
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, \
    AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D

__all__ = ["Activation", "ActivityRegularization", "AveragePooling1D", "AveragePooling2D",
           "AvgPool1D", "AvgPool2D",
           "BatchNormalization", "Bidirectional", "Conv1D", "Conv2D", "Convolution1D",
           "Convolution2D", "Dense", "Dropout", "Embedding", "Flatten", "GRU", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPool1D",
           "GlobalMaxPool2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Input", "InputLayer",
           "LSTM", "Layer", "LayerNormalization", "MaxPool1D", "MaxPool2D", "MaxPooling1D",
           "MaxPooling2D", "ReLU", "Reshape", "SimpleRNN", "SpatialDropout1D", "SpatialDropout2D",
           "ZeroPadding1D", "ZeroPadding2D"]
__all__ += ["AlphaDropout", "ELU", "GaussianDropout", "GaussianNoise", "Identity", "Lambda",
            "LeakyReLU", "Masking", "PReLU", "Permute", "RepeatVector", "Softmax",
            "TimeDistributed"]
__all__ += ["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract",
            "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]
__all__ += ["Conv1DTranspose", "Conv2DTranspose", "Convolution1DTranspose",
            "Convolution2DTranspose", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
            "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
            "SeparableConvolution1D", "SeparableConvolution2D", "GroupNormalization",
            "UnitNormalization"]
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
__all__ += ["GRUCell", "LSTMCell", "RNN", "SimpleRNNCell", "StackedRNNCells"]
__all__ += _preprocessing.__all__
__all__ += ["AdditiveAttention", "Attention", "MultiHeadAttention"]
