// Vectorised exp and erf for the fused kernels. The scalar functions of the C library are one call
// per value and cannot be vectorised; these work on eight lanes at once.

/// Returns eˣ for eight values, with a relative error below 2 ulp for inputs in [−87, 88]; inputs
/// below −87.3 (including −∞) give exactly 0, as eˣ would underflow there.
///
/// x = n·ln 2 + r with |r| ≤ ln2/2, so eˣ = 2ⁿ · eʳ; eʳ comes from a degree-6 polynomial (the
/// coefficients of Cephes' expf) and 2ⁿ is built directly in the exponent bits. ln 2 is split into a
/// high part with few mantissa bits and a small correction, so n·ln2_high is exact.
@inline(__always)
func fastExp(_ input: SIMD8<Float>) -> SIMD8<Float> {
    let low = SIMD8<Float>(repeating: -87.3), high = SIMD8<Float>(repeating: 88.3)
    var x = input.replacing(with: low, where: input .< low)
    x = x.replacing(with: high, where: x .> high)
    // Adding 1.5·2²³ rounds x·log₂e to an integer n held in the low mantissa bits, so n and 2ⁿ come
    // from plain float and integer arithmetic. (SIMD `rounded` and float-to-int conversion are not
    // vectorised by the standard library and cost more than the whole polynomial.)
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * r * r + r + 1
    // The bit pattern of `shifted` is 0x4B40_0000 + n; rebias n to the float exponent field.
    let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127
    let result = er * unsafeBitCast(bits &<< 23, to: SIMD8<Float>.self)
    return result.replacing(with: 0, where: input .< low)
}

/// Returns erf(x) for eight values given also e^(−x²), with an absolute error below 4·10⁻⁷: the
/// formula's own 1.5·10⁻⁷ (Abramowitz and Stegun, Handbook of Mathematical Functions, formula 7.1.26)
/// plus Float rounding near 1.
@inline(__always)
func fastErf(_ x: SIMD8<Float>, expMinusSquare: SIMD8<Float>) -> SIMD8<Float> {
    let a = x.replacing(with: -x, where: x .< 0)
    let t = 1 / (1 + 0.327_591_1 * a)
    var poly = SIMD8<Float>(repeating: 1.061_405_429)
    poly = poly * t - 1.453_152_027
    poly = poly * t + 1.421_413_741
    poly = poly * t - 0.284_496_736
    poly = poly * t + 0.254_829_592
    let magnitude = 1 - poly * t * expMinusSquare
    return magnitude.replacing(with: -magnitude, where: x .< 0)
}

/// Returns the GELU values and their derivatives for eight inputs:
/// GELU(x) = x·Φ(x), GELU′(x) = Φ(x) + x·φ(x), with Φ(x) = (1 + erf(x/√2)) / 2 and φ(x) = e^(−x²/2)/√(2π).
@inline(__always)
func geluAndDerivative(_ x: SIMD8<Float>) -> (value: SIMD8<Float>, derivative: SIMD8<Float>) {
    let halfSquare = -0.5 * x * x
    let gaussian = fastExp(halfSquare)  // e^(−x²/2) = e^(−(x/√2)²), shared by erf and φ
    let cdf = 0.5 * (1 + fastErf(x * 0.707_106_781, expMinusSquare: gaussian))
    return (x * cdf, cdf + x * gaussian * 0.398_942_28)
}
