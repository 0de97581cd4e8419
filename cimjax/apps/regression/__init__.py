"""cimjax.apps.regression: Fig. 22, heteroscedastic regression with the ANN against MC dropconnect
(`cimjax regress`), on the built-in task or the user's own table."""

from cimjax.apps.regression._experiment import RegressionSetup as RegressionSetup
from cimjax.apps.regression._experiment import builtin_split as builtin_split
from cimjax.apps.regression._experiment import calibration_variance as calibration_variance
from cimjax.apps.regression._experiment import coverage_by_noise as coverage_by_noise
from cimjax.apps.regression._experiment import demo_crossbar as demo_crossbar
from cimjax.apps.regression._experiment import layer_configs as layer_configs
from cimjax.apps.regression._experiment import output_step as output_step
from cimjax.apps.regression._experiment import run_regression as run_regression
from cimjax.apps.regression._report import fig22_figure as fig22_figure
from cimjax.apps.regression._report import plot_fig22 as plot_fig22
from cimjax.apps.regression._report import smooth_curve as smooth_curve
from cimjax.apps.regression._report import write_report as write_report
from cimjax.apps.regression._table import RegressionTable as RegressionTable
from cimjax.apps.regression._table import load_table as load_table
from cimjax.apps.regression._table import save_table_csv as save_table_csv
from cimjax.apps.regression._table import split_table as split_table
from cimjax.apps.regression._task import RegressionData as RegressionData
from cimjax.apps.regression._task import Standardizer as Standardizer
from cimjax.apps.regression._task import heteroscedastic_data as heteroscedastic_data
from cimjax.apps.regression._task import interval_coverage as interval_coverage
from cimjax.apps.regression._task import multi_input_task as multi_input_task
from cimjax.apps.regression._task import true_conditional as true_conditional

__all__ = [
    "builtin_split",
    "calibration_variance",
    "coverage_by_noise",
    "demo_crossbar",
    "fig22_figure",
    "heteroscedastic_data",
    "interval_coverage",
    "layer_configs",
    "load_table",
    "multi_input_task",
    "output_step",
    "plot_fig22",
    "RegressionData",
    "RegressionSetup",
    "RegressionTable",
    "run_regression",
    "save_table_csv",
    "smooth_curve",
    "split_table",
    "Standardizer",
    "true_conditional",
    "write_report",
]
