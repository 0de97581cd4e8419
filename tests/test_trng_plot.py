"""The TRNG quality figure (`plot_trng`, `--plot`): valid PNGs, panels that follow the inputs,
numbers that agree with independent computations, and no half-written file on any error."""

import json
import math
import re

import numpy as np
import pytest
from scipy.stats import norm

from cimjax.errors import CimjaxError
from cimjax.cli import main
from cimjax.apps.trng_report import binomial_bins, hamming_counts, plot_trng, trng_figure
from cimjax.trng import NistConfig, run_nist

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _bits(k, n, seed=0):
    return np.random.default_rng(seed).integers(0, 2, (k, n), dtype=np.uint8)


def _axes(fig):
    return fig.axes  # includes the axes of subfigures


def _titles(fig):
    return [ax.get_title(loc="left") for ax in _axes(fig)]


def _texts(fig):
    """Free texts, titles and legend titles of every panel."""
    texts = [t.get_text() for ax in _axes(fig) for t in ax.texts]
    texts += [ax.get_title(loc="left") for ax in _axes(fig)]
    return texts + [ax.get_legend().get_title().get_text() for ax in _axes(fig) if ax.get_legend()]


def _assert_png(path):
    import matplotlib.image

    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000
    img = matplotlib.image.imread(path)  # decodes the whole file: a truncated PNG raises
    assert img.ndim == 3 and img.shape[0] > 500 and img.shape[1] > 1000


def test_plot_writes_a_valid_png_and_nothing_else(tmp_path):
    bits = _bits(3, 2000)
    g = np.where(bits == 1, 16e-6, 28e-6) + 0.5e-6 * np.random.default_rng(1).standard_normal(bits.shape)
    result = run_nist(bits, NistConfig(tests=("frequency", "runs", "serial")))
    out = tmp_path / "fig.png"
    plot_trng(out, bits, conductance=g, result=result, title="three streams")
    _assert_png(out)
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]  # the temporary file was renamed away


def test_panels_follow_the_inputs():
    one = _titles(trng_figure(_bits(1, 1000)))
    assert [re.search(r"Fig\. \d+", t).group() for t in one] == ["Fig. 14", "Fig. 16", "Fig. 18"]
    assert [t[:3] for t in one] == ["(a)", "(b)", "(c)"]
    bits = _bits(2, 1000)
    result = run_nist(bits, NistConfig(tests=("frequency",)))
    full = _titles(trng_figure(bits, conductance=np.full(bits.shape, 2e-5), result=result))
    assert [re.search(r"Fig\. \d+|Table I", t).group() for t in full] == \
        ["Fig. 14", "Fig. 15", "Fig. 16", "Fig. 17", "Fig. 18", "Table I"]


def test_reported_numbers_match_independent_computations():
    rng = np.random.default_rng(3)
    n, lags = 3000, 100
    bits = (rng.random(n) < 0.45).astype(np.uint8)  # biased, so the entropy is visibly below 1
    texts = _texts(trng_figure(bits, max_lag=lags))
    # autocorrelation by direct sums (not the FFT of the code under test), band from the normal quantile
    x = bits - bits.mean()
    r = np.array([x[:-t] @ x[t:] for t in range(1, lags + 1)]) / (x @ x)
    outside = int(np.sum(np.abs(r) > norm.ppf(0.975) / math.sqrt(n)))
    assert f"{outside}/{lags} lags outside the band" in " ".join(texts)
    p = bits.mean()
    h = -p * math.log2(p) - (1 - p) * math.log2(1 - p)
    assert f"H = {h:.6f}, n = {n}" in " ".join(texts)


def test_hamming_counts_are_exact_across_chunks():
    bits = _bits(5, 1001, seed=4)
    expected = [int(np.sum(bits[i] != bits[j])) for i in range(5) for j in range(i + 1, 5)]
    assert hamming_counts(bits, chunk=7).tolist() == expected  # 7 does not divide 1001


def test_binomial_expectation_closed_forms():
    edges = np.arange(-0.5, 5.0)
    np.testing.assert_allclose(binomial_bins(4, np.array([0.5]), edges), np.array([1, 4, 6, 4, 1]) / 16)
    # a mixture of two degenerate pairs: half the mass at 0 differing bits, half at n = 2
    np.testing.assert_allclose(binomial_bins(2, np.array([0.0, 1.0]), np.arange(-0.5, 3.0)), [0.5, 0.0, 0.5])


def test_an_error_while_saving_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    out = tmp_path / "fig.png"
    out.write_bytes(b"old figure")

    def broken_savefig(self, fname, **kwargs):
        with open(fname, "wb") as f:
            f.write(PNG_SIGNATURE + b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_trng(out, _bits(1, 500))
    with pytest.raises(RuntimeError, match="disk full"):
        plot_trng(tmp_path / "new.png", _bits(1, 500))
    assert out.read_bytes() == b"old figure"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


@pytest.mark.parametrize("name, kwargs, message", [
    ("fig.jpg", {}, "must end in one of"),
    ("fig.png", {"conductance": np.zeros((1, 10))}, "has shape (1, 10)"),
    ("fig.png", {"conductance": np.full((2, 400), np.nan)}, "finite"),
    ("fig.png", {"max_lag": 0}, "max_lag=0"),
])
def test_bad_input_raises_before_writing(tmp_path, name, kwargs, message):
    with pytest.raises(CimjaxError, match=re.escape(message)):
        plot_trng(tmp_path / name, _bits(2, 400), **kwargs)
    other = run_nist(_bits(1, 400), NistConfig(tests=("frequency",)))
    with pytest.raises(CimjaxError, match="result covers 1 x 400"):
        plot_trng(tmp_path / "fig.png", _bits(2, 400), result=other)
    assert list(tmp_path.iterdir()) == []


def _cli(capsys, *argv):
    code = main(["trng", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_test_plot_keeps_json_clean(tmp_path, capsys):
    bits = _bits(1, 4000, seed=5)[0]
    src = tmp_path / "s.txt"
    src.write_text("\n".join("".join(map(str, bits[i:i + 80])) for i in range(0, bits.size, 80)))
    np.save(tmp_path / "g.npy", np.where(bits == 1, 16e-6, 28e-6))
    fig = tmp_path / "out" / "fig.png"
    code, out, err = _cli(capsys, "test", str(src), "--json", "--tests", "frequency,runs", "--streams", "2",
                          "--plot", str(fig), "--conductance", str(tmp_path / "g.npy"))
    assert code == 0, err
    assert json.loads(out)["n_streams"] == 2  # the figure's message went to stderr
    assert f"wrote figure {fig}" in err
    _assert_png(fig)


@pytest.mark.parametrize("extra, message", [
    (["--plot", "fig.jpg"], "must end in one of"),
    (["--conductance", "g.npy"], "add --plot"),
    (["--plot", "fig.png", "--conductance", "g.npy"], "has shape (3,)"),
    (["--plot", "fig.png", "--conductance", "missing.npy"], "no such file"),
])
def test_cli_test_bad_plot_options(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.txt").write_text("0110" * 50)
    np.save(tmp_path / "g.npy", np.zeros(3))
    code, out, err = _cli(capsys, "test", "s.txt", *extra)
    assert code == 2 and message in err and "Traceback" not in err
    assert out == "" and not (tmp_path / "fig.png").exists()  # failed before any test ran


def _fake_generate_streams(key, n_devices, n_bits, **kwargs):
    from cimjax.trng import PbitStreams

    bits = _bits(n_devices, n_bits, seed=6)
    return PbitStreams(bits, np.full(n_devices, 0.5), np.where(bits == 1, 16e-6, 28e-6).astype(np.float32), "reset")


def test_cli_generate_plot(tmp_path, capsys, monkeypatch):
    # the emulator is tested elsewhere (and end to end in the slow test below): here, the --plot wiring
    monkeypatch.setattr("cimjax.trng._generate.generate_streams", _fake_generate_streams)
    fig = tmp_path / "gen.png"
    code, out, err = _cli(capsys, "generate", "--devices", "2", "--bits", "600", "--out", str(tmp_path / "s.npy"),
                          "--plot", str(fig))
    assert code == 0, err
    assert f"wrote figure {fig}" in out
    _assert_png(fig)
    code, _, err = _cli(capsys, "generate", "--bits", "10", "--out", str(tmp_path / "t.npy"), "--plot", "x.gif")
    assert code == 2 and "must end in one of" in err and not (tmp_path / "t.npy").exists()


@pytest.mark.slow
def test_cli_generate_plot_end_to_end(tmp_path, capsys):
    fig = tmp_path / "gen.png"
    code, out, err = _cli(capsys, "generate", "--devices", "2", "--bits", "600", "--out", str(tmp_path / "s.npy"),
                          "--plot", str(fig))
    assert code == 0, err
    _assert_png(fig)
