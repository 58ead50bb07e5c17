#ifndef TRANSFORMER_STEPS_CPU_FEATURES_H
#define TRANSFORMER_STEPS_CPU_FEATURES_H

/// Returns 1 when the running CPU has the instructions the Tensor module was compiled for
/// (AVX2 and FMA on x86-64), 0 otherwise. Always 1 on other architectures.
/// This file is compiled for the baseline CPU, so calling it is safe on any x86-64 machine.
int ts_cpu_supports_tensor_build(void);

/// Returns 1 when the running CPU has the AVX-512 subsets of Intel's Skylake-SP (F, CD, BW, DQ, VL),
/// which an AVX-512 build of the Tensor module may use; 0 otherwise and on other architectures.
int ts_cpu_supports_avx512(void);

#endif
