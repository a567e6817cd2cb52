//===- Peak.cpp - This machine's f32 FMA peak ------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Compiled for the host CPU (-march=native): 12 independent accumulators of
// one native vector register each, so the FMA units never wait on latency.
// This measures the machine, it is not a kernel of the compiler.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>

namespace {
#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float vec __attribute__((vector_size(kLanes * sizeof(float))));
} // namespace

double measureFmaPeakOneThread(double seconds) {
  vec acc[12];
  for (int i = 0; i < 12; ++i)
    for (int l = 0; l < kLanes; ++l)
      acc[i][l] = 0.001f * (i + l);
  vec a, b;
  for (int l = 0; l < kLanes; ++l) {
    a[l] = 0.999999f;
    b[l] = 1e-7f;
  }
  long iterations = 0;
  auto start = std::chrono::steady_clock::now();
  double elapsed = 0.0;
  do {
    for (int r = 0; r < 4096; ++r)
      for (int i = 0; i < 12; ++i)
        acc[i] = acc[i] * a + b;
    iterations += 4096;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            start)
                  .count();
  } while (elapsed < seconds);
  // Keep the result alive.
  volatile float sink = 0;
  for (int i = 0; i < 12; ++i)
    sink = sink + acc[i][0];
  (void)sink;
  return 2.0 * kLanes * 12 * iterations / elapsed / 1e9;
}

/// GB/s of one thread summing a 256 MiB array (far larger than the caches)
/// with independent vector accumulators: the memory read bandwidth the
/// decode benchmarks are compared with. Best of `passes` passes.
double measureReadBandwidthOneThread(int passes) {
  constexpr long kBytes = 256l << 20;
  constexpr long kVectors = kBytes / sizeof(vec);
  vec *data = new vec[kVectors];
  for (long i = 0; i < kVectors; ++i)
    for (int l = 0; l < kLanes; ++l)
      data[i][l] = 1e-3f * float(l);
  double best = 0;
  volatile float sink = 0;
  for (int p = 0; p < passes; ++p) {
    vec acc[8] = {};
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < kVectors; i += 8)
      for (int j = 0; j < 8; ++j)
        acc[j] += data[i + j];
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start)
                   .count();
    for (int j = 0; j < 8; ++j)
      sink = sink + acc[j][0];
    best = std::max(best, kBytes / s / 1e9);
  }
  (void)sink;
  delete[] data;
  return best;
}
