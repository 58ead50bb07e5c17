"""Write the safetensors file that the Swift tests read as an outside reference.

Run from the package root with a Python that has numpy and safetensors:

    /work/venv/bin/python Tools/make_safetensors_fixture.py

It writes Tests/TensorTests/Fixtures/python-reference.safetensors and prints the float32 bit
pattern of every value, which SafeTensorsTests.swift lists as its expected values. Made with
safetensors 0.8.0 and numpy 2.4.6. The metadata has a single key because safetensors 0.8.0
writes metadata keys in a different order on each run, and the test compares bytes.
"""

from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

OUTPUT = Path(__file__).resolve().parent.parent / "Tests/TensorTests/Fixtures/python-reference.safetensors"

ARRAYS = {
    # Values that are not exact in decimal, a negative zero and the smallest subnormal.
    "bias": np.array([0.1, -0.0, 1e-45], dtype=np.float32),
    # The largest finite float32, infinity and NaN next to ordinary values.
    "blocks.0.weight": np.array(
        [[1.0, -2.5, 3.4028235e38], [-np.inf, np.nan, 1.0 / 3.0]], dtype=np.float32
    ),
    # A zero-size dimension: no bytes in the data section.
    "empty": np.zeros((0, 2), dtype=np.float32),
    # A scalar: shape [] and one value.
    "scale": np.array(1.5, dtype=np.float32),
}

# A quote, a newline and a non-ASCII character exercise JSON escaping and UTF-8.
METADATA = {"note": 'tiny "fixture"\nstep \u00e9'}


def main() -> None:
    save_file(ARRAYS, str(OUTPUT), metadata=METADATA)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")
    for name, array in ARRAYS.items():
        bits = ", ".join(f"0x{word:08X}" for word in array.reshape(-1).view(np.uint32))
        print(f"{name} shape={list(array.shape)} bits=[{bits}]")


if __name__ == "__main__":
    main()
