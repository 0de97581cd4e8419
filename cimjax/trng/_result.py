"""The outcome of one NIST SP800-22 test on a batch of streams."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# The 15 tests of SP800-22 rev1a, in the order of the reference's menu.
TEST_NAMES = (
    "frequency", "block_frequency", "runs", "longest_run", "rank", "dft",
    "non_overlapping_template", "overlapping_template", "universal", "linear_complexity",
    "serial", "approximate_entropy", "cumulative_sums", "random_excursions",
    "random_excursions_variant",
)

ALPHA = 0.01  # SP800-22 section 4: the significance level of the reference


class TestOutcome(NamedTuple):
    """P-values of one test over k streams.

    Attributes:
      name: one of `TEST_NAMES`.
      p_values: (k, P) float64; NaN in the rows of streams where the test does not apply.
      skipped: length-k tuple; the reason a stream was not tested, or None.
      labels: length-P tuple naming each p-value (template, state, "forward", ...).
      warnings: notes such as parameters outside NIST's recommended range.
    """

    name: str
    p_values: np.ndarray
    skipped: tuple
    labels: tuple
    warnings: tuple = ()
    __test__ = False  # not a pytest test class

    def passed(self, alpha: float = ALPHA) -> np.ndarray:
        """(k,) bool: every p-value of the stream is >= alpha / P.

        The Bonferroni rule over a test's own P p-values keeps the chance that a
        random stream fails any one test at most `alpha`, whether the test has one
        p-value or 148 (templates). Rows of skipped streams are False.
        """
        n_p = max(self.p_values.shape[1], 1)
        ok = np.all(self.p_values >= alpha / n_p, axis=1)
        return ok & ~np.isnan(self.p_values).any(axis=1)


def skipped_outcome(name: str, k: int, reason: str, labels: tuple = ()) -> TestOutcome:
    """An outcome where the test applies to none of the k streams."""
    p = np.full((k, max(len(labels), 1)), np.nan)
    return TestOutcome(name, p, (reason,) * k, labels or ("p",))


def outcome(name: str, p_values, labels: tuple = ("p",), warnings: tuple = (),
            skipped: tuple | None = None) -> TestOutcome:
    """Builds an outcome from a (k,) or (k, P) array of p-values."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim == 1:
        p = p[:, None]
    p = np.clip(p, 0.0, 1.0)  # igamc rounding can leave 1 + 1e-16
    if skipped is None:
        skipped = (None,) * p.shape[0]
    return TestOutcome(name, p, tuple(skipped), tuple(labels), tuple(warnings))
