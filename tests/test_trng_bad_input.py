"""Bad bit input to `cimjax.trng`: a ConfigError naming the parameter, never numpy's own error."""

import pytest

from cimjax import trng
from cimjax.errors import ConfigError


@pytest.mark.parametrize(
    "bits, expected",
    [
        ([[0, 1], [1]], "bits is ragged (stream lengths [1, 2]): the streams must all have one length"),
        ([[0, [1]], [1, 0]], "bits is ragged: the streams must all have one length and hold single bits"),
    ],
)
def test_ragged_bits_name_the_parameter(bits, expected):
    # was: numpy's ValueError "setting an array element with a sequence ... inhomogeneous shape"
    with pytest.raises(ConfigError) as err:
        trng.as_bit_matrix(bits)
    assert str(err.value).startswith(expected), err.value
    with pytest.raises(ConfigError, match=r"^streams is ragged"):
        trng.as_bit_matrix(bits, name="streams")


def test_rectangular_lists_still_read():
    assert trng.as_bit_matrix([[0, 1], [1, 0]]).tolist() == [[0, 1], [1, 0]]
    assert trng.as_bit_matrix([1, 0, 1]).shape == (1, 3)
