"""cimjax.kernels: fused crossbar reads with in-situ P-bit dropconnect (XLA + Pallas), custom VJP."""

from cimjax.kernels._hash import cell_keys as cell_keys
from cimjax.kernels._hash import fmix32 as fmix32
from cimjax.kernels._hash import keep_threshold as keep_threshold
from cimjax.kernels._hash import mix32 as mix32
from cimjax.kernels._hash import sample_keys as sample_keys
from cimjax.kernels._hash import seed_words as seed_words
from cimjax.kernels.crossbar_read import crossbar_matmul as crossbar_matmul
from cimjax.kernels.crossbar_read import crossbar_moments as crossbar_moments
from cimjax.kernels.modes import gaussian_read as gaussian_read
from cimjax.kernels.modes import moment_weights as moment_weights
from cimjax.kernels.modes import pbit_matmul_refresh as pbit_matmul_refresh
from cimjax.kernels.pbit_matmul import BlockSizes as BlockSizes
from cimjax.kernels.pbit_matmul import pbit_mask_reference as pbit_mask_reference
from cimjax.kernels.pbit_matmul import pbit_matmul as pbit_matmul
from cimjax.kernels.pbit_matmul import pbit_matmul_reference as pbit_matmul_reference
from cimjax.kernels.pbit_matmul_pallas import pbit_matmul_pallas as pbit_matmul_pallas

__all__ = [
    "BlockSizes",
    "cell_keys",
    "crossbar_matmul",
    "crossbar_moments",
    "fmix32",
    "gaussian_read",
    "keep_threshold",
    "mix32",
    "moment_weights",
    "pbit_mask_reference",
    "pbit_matmul",
    "pbit_matmul_pallas",
    "pbit_matmul_reference",
    "pbit_matmul_refresh",
    "sample_keys",
    "seed_words",
]
