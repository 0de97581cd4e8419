"""cimjax.apps.calibration: the switching-fit figure of `cimjax device calibrate --plot`."""

from cimjax.apps.calibration._plot import plot_switching as plot_switching
from cimjax.apps.calibration._plot import switching_figure as switching_figure

__all__ = [
    "plot_switching",
    "switching_figure",
]
