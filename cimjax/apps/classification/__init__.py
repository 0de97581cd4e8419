"""cimjax.apps.classification: digits classification with uncertainty, the float ANN against
MC dropconnect on the crossbar (`cimjax classify`): accuracy, NLL, calibration and OOD detection."""

from cimjax.apps.classification._experiment import MODELS as MODELS
from cimjax.apps.classification._experiment import OOD_MODES as OOD_MODES
from cimjax.apps.classification._experiment import ClassifyData as ClassifyData
from cimjax.apps.classification._experiment import ClassifySetup as ClassifySetup
from cimjax.apps.classification._experiment import classify_crossbar as classify_crossbar
from cimjax.apps.classification._experiment import digits_ood_split as digits_ood_split
from cimjax.apps.classification._experiment import run_classification as run_classification
from cimjax.apps.classification._metrics import ECE_BINS as ECE_BINS
from cimjax.apps.classification._metrics import classification_scores as classification_scores
from cimjax.apps.classification._metrics import expected_calibration_error as expected_calibration_error
from cimjax.apps.classification._metrics import predictive_entropy as predictive_entropy
from cimjax.apps.classification._metrics import reliability_bins as reliability_bins
from cimjax.apps.classification._metrics import roc_auc as roc_auc
from cimjax.apps.classification._report import reliability_figure as reliability_figure
from cimjax.apps.classification._report import write_classify_report as write_classify_report

__all__ = [
    "classification_scores",
    "classify_crossbar",
    "ClassifyData",
    "ClassifySetup",
    "digits_ood_split",
    "ECE_BINS",
    "expected_calibration_error",
    "MODELS",
    "OOD_MODES",
    "predictive_entropy",
    "reliability_figure",
    "reliability_bins",
    "roc_auc",
    "run_classification",
    "write_classify_report",
]
