"""Bad local MNIST (`--mnist`): a DataFileError naming the file and what is wrong, before any training."""

import gzip

import numpy as np
import pytest

import cimjax.apps.diffusion._pipeline as pipeline
from cimjax.apps.diffusion import load_mnist
from cimjax.cli import main
from cimjax.errors import DataFileError

RNG = np.random.default_rng(0)


def _idx(images=None, labels=None) -> bytes:
    if images is not None:
        return (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in images.shape) + images.tobytes()
    return (2049).to_bytes(4, "big") + len(labels).to_bytes(4, "big") + labels.tobytes()


def _idx_folder(tmp_path, change=lambda files: None, gz=False):
    files = {}
    for split, n in (("train", 20), ("t10k", 10)):
        files[f"{split}-images-idx3-ubyte"] = _idx(images=RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        files[f"{split}-labels-idx1-ubyte"] = _idx(labels=RNG.integers(0, 10, n, dtype=np.uint8))
    change(files)
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, data in files.items():
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
    return folder


def _npz(tmp_path, **change):
    arrays = {"x_train": RNG.integers(0, 256, (20, 28, 28), dtype=np.uint8), "y_train": RNG.integers(0, 10, 20),
              "x_test": RNG.integers(0, 256, (10, 784), dtype=np.uint8), "y_test": RNG.integers(0, 10, 10)}
    arrays.update(change)
    path = tmp_path / "mnist.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_good_files_load(tmp_path):
    for data in (load_mnist(_idx_folder(tmp_path)), load_mnist(_npz(tmp_path))):
        assert data.x_train.shape == (20, 784) and data.x_test.shape == (10, 784) and data.y_train.dtype == np.int32


@pytest.mark.parametrize("change, needle", [
    (lambda f: f.update({"train-images-idx3-ubyte": f["train-images-idx3-ubyte"][:-100]}),
     "train-images-idx3-ubyte: header says (20, 28, 28) (15680 bytes of data), file holds 15580"),
    # was: "images of shape (0, 0), expected (28, 28)" from a header read past the end
    (lambda f: f.update({"train-images-idx3-ubyte": f["train-images-idx3-ubyte"][:10]}),
     "train-images-idx3-ubyte: truncated: 10 bytes, shorter than its 16-byte IDX header"),
    (lambda f: f.update({"train-labels-idx1-ubyte": f["train-images-idx3-ubyte"]}),
     "train-labels-idx1-ubyte: magic number 2051 (0x00000803), expected 2049"),
    # was: the mismatch reported against the image file alone, as "labels of shape (9,), expected (10,)"
    (lambda f: f.update({"t10k-labels-idx1-ubyte": _idx(labels=np.zeros(9, np.uint8))}),
     "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte: 9 labels for 10 images"),
    # was: numpy's ValueError "cannot reshape array of size 0 into shape (0,newaxis)"
    (lambda f: f.update({"train-images-idx3-ubyte": _idx(images=np.zeros((0, 28, 28), np.uint8)),
                         "train-labels-idx1-ubyte": _idx(labels=np.zeros(0, np.uint8))}), "no images (N = 0)"),
    # was: accepted; the classifier then trained on class 200
    (lambda f: f.update({"t10k-labels-idx1-ubyte": _idx(labels=np.full(10, 200, np.uint8))}),
     "t10k-labels-idx1-ubyte: label [0] = 200 is not a digit class 0..9"),
])
def test_bad_idx_files_are_named(tmp_path, change, needle):
    folder = _idx_folder(tmp_path, change)
    with pytest.raises(DataFileError) as err:
        load_mnist(folder)
    assert str(err.value).startswith(str(folder)) and needle in str(err.value), err.value


def test_corrupt_gzip_is_named(tmp_path):
    folder = _idx_folder(tmp_path, gz=True)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataFileError, match=r"train-images-idx3-ubyte\.gz: cannot read"):
        load_mnist(folder)


@pytest.mark.parametrize("change, needle", [
    ({"y_test": None}, "mnist.npz: missing arrays ['y_test']"),
    ({"x_train": np.zeros((20, 32, 32), np.uint8)}, "mnist.npz: x_train, y_train: images of shape (20, 32, 32)"),
    ({"y_train": np.zeros(19, int)}, "mnist.npz: x_train, y_train: 19 labels for 20 images"),
    ({"x_train": np.full((20, 28, 28), np.nan)}, "mnist.npz: x_train, y_train: pixel values must be finite"),
    # were: numpy's UFuncTypeError, a silent cast of complex pixels, ValueError (cannot reshape), labels cast to int
    ({"x_train": np.full((20, 28, 28), "a")}, "mnist.npz: x_train, y_train: images hold <U1 values, expected real"),
    ({"x_test": np.zeros((10, 28, 28), complex)}, "mnist.npz: x_test, y_test: images hold complex128 values"),
    ({"x_test": np.zeros((0, 28, 28), np.uint8), "y_test": np.zeros(0, int)}, "x_test, y_test: no images (N = 0)"),
    ({"y_train": np.full(20, 3.7)}, "x_train, y_train: label [0] = 3.7 is not a digit class 0..9"),
    ({"y_train": np.full(20, np.nan)}, "x_train, y_train: label [0] = nan is not a digit class 0..9"),
    ({"y_test": np.full(10, -1)}, "x_test, y_test: label [0] = -1 is not a digit class 0..9"),
    ({"x_train": np.array([None] * 20, dtype=object)}, "mnist.npz: cannot read the .npz (Object arrays cannot"),
])
def test_bad_npz_is_named(tmp_path, change, needle):
    path = _npz(tmp_path, **change)
    with pytest.raises(DataFileError) as err:
        load_mnist(path)
    assert str(err.value).startswith(str(tmp_path)) and needle in str(err.value), err.value


@pytest.mark.parametrize("cut", [0, 3000])
def test_npz_that_is_not_a_zip_is_named(tmp_path, cut):
    # were: numpy's ValueError "This file contains pickled (object) data" and zipfile.BadZipFile
    path = _npz(tmp_path)
    path.write_bytes(b"hello world" if cut == 0 else path.read_bytes()[:cut])
    with pytest.raises(DataFileError, match=r"mnist\.npz: not an \.npz \(zip\) archive"):
        load_mnist(path)


def test_cli_refuses_bad_mnist_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "train_vae", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))
    path = _npz(tmp_path, y_train=np.full(20, 12))
    out = tmp_path / "s"
    assert main(["sample", "--n", "1", "--out", str(out), "--quick", "--cache", str(tmp_path / "c"),
                 "--mnist", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"cimjax sample: error: {path}: x_train, y_train: label [0] = 12 is not a digit class 0..9\n", err
    assert not out.exists() or not any(out.iterdir())
