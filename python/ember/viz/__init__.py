"""ember.viz: pictures of training and of what a model learned, for both faces (an ember
nn.Module or a Keras model): training curves, convolution filters, feature maps, saliency
maps, Grad-CAM, confusion matrices and weight histograms.

The numbers (``feature_maps``, ``saliency``, ``grad_cam``, ``confusion_matrix``) need only
NumPy. Each ``plot_*`` function draws with matplotlib, an optional extra
(``pip install "ember[viz]"``) imported on first use, and returns a matplotlib Figure, also
written as a PNG when given ``path=``. ``import ember`` never imports this package.
"""
from .confusion_matrix import confusion_matrix, plot_confusion_matrix
from .feature_maps import feature_maps, plot_feature_maps
from .filters import plot_filters
from .grad_cam import grad_cam, plot_grad_cam
from .history import plot_history
from .saliency import plot_saliency, saliency
from .weight_histograms import plot_weight_histograms

__all__ = ["confusion_matrix", "feature_maps", "grad_cam", "plot_confusion_matrix",
           "plot_feature_maps", "plot_filters", "plot_grad_cam", "plot_history",
           "plot_saliency", "plot_weight_histograms", "saliency"]
