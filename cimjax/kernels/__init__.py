"""cimjax.kernels: the masked product, a leaf that knows only hashing and P-bit masks.

`pbit_matmul` computes x @ (w * K) with every mask bit K drawn inside the product from a
counter-based hash of (read seed, sample, row, column), in XLA or as a Pallas kernel,
with a custom VJP that regenerates the masks. Two cells (a row pair) share one 32-bit
draw, so keep probabilities are resolved to 2^-PROBABILITY_BITS = 2^-16. The crossbar (`cimjax.crossbar`) builds
reads on top of it.
"""

from cimjax.kernels._hash import N_SEED_WORDS as N_SEED_WORDS
from cimjax.kernels._hash import PROBABILITY_BITS as PROBABILITY_BITS
from cimjax.kernels._hash import cell_uniforms as cell_uniforms
from cimjax.kernels._hash import fmix32 as fmix32
from cimjax.kernels._hash import keep_threshold as keep_threshold
from cimjax.kernels._hash import mix32 as mix32
from cimjax.kernels._hash import normal_from_counters as normal_from_counters
from cimjax.kernels._hash import pair_count as pair_count
from cimjax.kernels._hash import pair_keys as pair_keys
from cimjax.kernels._hash import pair_uniforms as pair_uniforms
from cimjax.kernels._hash import pair_word as pair_word
from cimjax.kernels._hash import row_keys as row_keys
from cimjax.kernels._hash import sample_words as sample_words
from cimjax.kernels._hash import seed_words as seed_words
from cimjax.kernels._modes import gaussian_read as gaussian_read
from cimjax.kernels._modes import moment_weights as moment_weights
from cimjax.kernels._modes import pbit_matmul_refresh as pbit_matmul_refresh
from cimjax.kernels._args import BACKENDS as BACKENDS
from cimjax.kernels._args import BlockSizes as BlockSizes
from cimjax.kernels._args import check_prng_key as check_prng_key
from cimjax.kernels._pbit_matmul import pbit_mask_reference as pbit_mask_reference
from cimjax.kernels._pbit_matmul import pbit_matmul as pbit_matmul
from cimjax.kernels._pbit_matmul import pbit_matmul_reference as pbit_matmul_reference
from cimjax.kernels._args import resolve_backend as resolve_backend
from cimjax.kernels._pbit_matmul_pallas import pbit_matmul_pallas as pbit_matmul_pallas

__all__ = [
    "BACKENDS",
    "BlockSizes",
    "check_prng_key",
    "cell_uniforms",
    "fmix32",
    "gaussian_read",
    "keep_threshold",
    "mix32",
    "moment_weights",
    "N_SEED_WORDS",
    "normal_from_counters",
    "pbit_mask_reference",
    "pair_count",
    "pair_keys",
    "pair_uniforms",
    "pair_word",
    "pbit_matmul",
    "pbit_matmul_pallas",
    "pbit_matmul_reference",
    "pbit_matmul_refresh",
    "PROBABILITY_BITS",
    "resolve_backend",
    "row_keys",
    "sample_words",
    "seed_words",
]
