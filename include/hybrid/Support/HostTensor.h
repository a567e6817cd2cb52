//===- HostTensor.h - A dense f32 tensor in host memory ---------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_SUPPORT_HOSTTENSOR_H
#define HYBRID_SUPPORT_HOSTTENSOR_H

#include <cstdint>
#include <vector>

namespace mlir::hybrid {

/// A dense row-major f32 tensor in host memory.
struct HostTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  HostTensor() = default;
  explicit HostTensor(std::vector<int64_t> s) : shape(std::move(s)) {
    data.assign(numElements(), 0.0f);
  }
  /// The most elements a host tensor may hold (2^36 floats, 256 GiB): the
  /// tools check shapes against it before allocating.
  static constexpr int64_t kMaxElements = int64_t(1) << 36;

  /// The number of elements of `shape`, or -1 when a dim is negative or the
  /// product exceeds kMaxElements (computed without overflow).
  static int64_t checkedElements(const std::vector<int64_t> &shape) {
    int64_t n = 1;
    for (int64_t d : shape)
      if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > kMaxElements)
        return -1;
    return n;
  }

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  int64_t dim(int64_t i) const { return shape[i]; }
};

} // namespace mlir::hybrid

#endif // HYBRID_SUPPORT_HOSTTENSOR_H
