"""Derive examples/data/digits.npz from the copy of the handwritten digits that scikit-learn ships.

    pip install 'scikit-learn==1.9.1'      # or: pip install -e '.[digits]'
    python examples/data/make_digits.py

Run once; the file is committed, so neither the example nor the tests need scikit-learn or a
download. It holds ``images`` (1797 x 64 uint8, 8 x 8 pixel counts 0..16) and ``digits`` (1797
uint8, 0..9), in scikit-learn's order. Licences: see README.md next to this script.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def main(out: Path = Path(__file__).with_name("digits.npz")) -> None:
    from sklearn.datasets import load_digits  # reads sklearn/datasets/data/digits.csv.gz from the wheel

    digits = load_digits()
    images = digits.data.astype(np.uint8)
    assert np.array_equal(images, digits.data) and images.shape == (1797, 64)
    np.savez_compressed(out, images=images, digits=digits.target.astype(np.uint8))
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
