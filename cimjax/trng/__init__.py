"""P-bit true random number generation and its quality suite (Section III, Figs. 14-18, Table I).

Generation from emulated P-bit arrays (`generate_streams`, with per-device trimming),
debiasing with its raw-bit cost (`debias`), NIST SP800-22 rev1a's 15
tests vectorised over many streams (`run_nist`), NIST's second-level analysis
(`second_level`), autocorrelation, Hamming distance, Shannon entropy against a fair
stream's (`fair_entropy`) and min-entropy. The
report and figures of `cimjax trng` live in `cimjax.apps.trng_report`.
"""

from cimjax.trng._bits import FORMATS as FORMATS
from cimjax.trng._bits import as_bit_matrix as as_bit_matrix
from cimjax.trng._bits import infer_format as infer_format
from cimjax.trng._bits import load_bits as load_bits
from cimjax.trng._bits import parse_ascii as parse_ascii
from cimjax.trng._bits import save_bits as save_bits
from cimjax.trng._debias import DEBIAS_METHODS as DEBIAS_METHODS
from cimjax.trng._debias import DebiasedBits as DebiasedBits
from cimjax.trng._debias import debias as debias
from cimjax.trng._debias import debias_rate as debias_rate
from cimjax.trng._generate import PbitStreams as PbitStreams
from cimjax.trng._generate import StreamDrift as StreamDrift
from cimjax.trng._generate import generate_streams as generate_streams
from cimjax.trng._nist_complexity import berlekamp_massey as berlekamp_massey
from cimjax.trng._nist_complexity import linear_complexity as linear_complexity
from cimjax.trng._nist_complexity import universal as universal
from cimjax.trng._nist_excursions import random_excursions as random_excursions
from cimjax.trng._nist_excursions import random_excursions_variant as random_excursions_variant
from cimjax.trng._nist_serial import approximate_entropy as approximate_entropy
from cimjax.trng._nist_serial import serial as serial
from cimjax.trng._nist_simple import block_frequency as block_frequency
from cimjax.trng._nist_simple import cumulative_sums as cumulative_sums
from cimjax.trng._nist_simple import frequency as frequency
from cimjax.trng._nist_simple import longest_run as longest_run
from cimjax.trng._nist_simple import runs as runs
from cimjax.trng._nist_spectral import dft as dft
from cimjax.trng._nist_spectral import gf2_rank as gf2_rank
from cimjax.trng._nist_spectral import rank as rank
from cimjax.trng._nist_template import aperiodic_templates as aperiodic_templates
from cimjax.trng._nist_template import non_overlapping_template as non_overlapping_template
from cimjax.trng._nist_template import overlapping_template as overlapping_template
from cimjax.trng._quality import FairEntropy as FairEntropy
from cimjax.trng._quality import autocorrelation as autocorrelation
from cimjax.trng._quality import fair_entropy as fair_entropy
from cimjax.trng._quality import hamming_distance as hamming_distance
from cimjax.trng._quality import mcv_min_entropy as mcv_min_entropy
from cimjax.trng._quality import pairwise_hamming as pairwise_hamming
from cimjax.trng._quality import shannon_entropy as shannon_entropy
from cimjax.trng._result import ALPHA as ALPHA
from cimjax.trng._result import TEST_NAMES as TEST_NAMES
from cimjax.trng._result import TestOutcome as TestOutcome
from cimjax.trng._second_level import SecondLevelRow as SecondLevelRow
from cimjax.trng._second_level import proportion_flag_probability as proportion_flag_probability
from cimjax.trng._second_level import proportion_interval as proportion_interval
from cimjax.trng._second_level import second_level as second_level
from cimjax.trng._second_level import second_level_json as second_level_json
from cimjax.trng._second_level import uniformity as uniformity
from cimjax.trng._second_level import uniformity_note as uniformity_note
from cimjax.trng._suite import NistConfig as NistConfig
from cimjax.trng._suite import NistResult as NistResult
from cimjax.trng._suite import run_nist as run_nist

__all__ = [
    "ALPHA",
    "DEBIAS_METHODS",
    "DebiasedBits",
    "FairEntropy",
    "NistConfig",
    "NistResult",
    "PbitStreams",
    "StreamDrift",
    "SecondLevelRow",
    "TEST_NAMES",
    "TestOutcome",
    "aperiodic_templates",
    "approximate_entropy",
    "FORMATS",
    "as_bit_matrix",
    "infer_format",
    "autocorrelation",
    "berlekamp_massey",
    "block_frequency",
    "cumulative_sums",
    "debias",
    "debias_rate",
    "dft",
    "fair_entropy",
    "frequency",
    "generate_streams",
    "gf2_rank",
    "hamming_distance",
    "linear_complexity",
    "load_bits",
    "longest_run",
    "mcv_min_entropy",
    "non_overlapping_template",
    "overlapping_template",
    "pairwise_hamming",
    "parse_ascii",
    "proportion_flag_probability",
    "proportion_interval",
    "random_excursions",
    "random_excursions_variant",
    "rank",
    "run_nist",
    "runs",
    "save_bits",
    "second_level",
    "second_level_json",
    "serial",
    "shannon_entropy",
    "uniformity",
    "uniformity_note",
    "universal",
]
