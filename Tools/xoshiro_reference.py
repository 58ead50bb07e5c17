#!/usr/bin/env python3
"""Print reference draws of xoshiro256** seeded by SplitMix64, for the SeededGenerator tests.

Written from the published algorithm descriptions (Blackman and Vigna, "Scrambled Linear
Pseudorandom Number Generators", 2018, and Steele, Lea and Flood's SplitMix64), independently of
the Swift code, with Python's unbounded integers masked to 64 bits. Uses only the standard library.

Usage: python3 Tools/xoshiro_reference.py [seed]   (seed defaults to 0)
"""

import math
import struct
import sys

MASK = (1 << 64) - 1


def splitmix64(seed):
    """Yield the SplitMix64 sequence that starts from `seed`."""
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256StarStar:
    """xoshiro256** with its four state words filled by SplitMix64."""

    def __init__(self, seed):
        mixer = splitmix64(seed)
        self.s = [next(mixer) for _ in range(4)]

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def to_float32(x):
    """Round a Python float (binary64) to the nearest binary32 value."""
    return struct.unpack("f", struct.pack("f", x))[0]


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0

    generator = Xoshiro256StarStar(seed)
    print(f"seed {seed}: first 8 raw 64-bit draws")
    for _ in range(8):
        print(f"    0x{generator.next():016X},")

    # Uniform floats: the top 24 bits of a draw, times 2^-24 (exact in binary32).
    generator = Xoshiro256StarStar(seed)
    print(f"seed {seed}: first 4 uniform floats in [0, 1)")
    for _ in range(4):
        print(f"    {(generator.next() >> 40) / 2**24!r},")

    # Normal draws: Box-Muller in binary64 on two draws, u1 = 1 - (bits >> 11) * 2^-53 in (0, 1]
    # and u2 = (bits >> 11) * 2^-53 in [0, 1); the cosine value comes first, then the sine value.
    generator = Xoshiro256StarStar(seed)
    print(f"seed {seed}: first 4 normal draws, rounded to binary32")
    for _ in range(2):
        u1 = 1.0 - (generator.next() >> 11) * 2.0**-53
        u2 = (generator.next() >> 11) * 2.0**-53
        radius = math.sqrt(-2.0 * math.log(u1))
        angle = 2.0 * math.pi * u2
        print(f"    {to_float32(radius * math.cos(angle))!r},")
        print(f"    {to_float32(radius * math.sin(angle))!r},")


if __name__ == "__main__":
    main()
