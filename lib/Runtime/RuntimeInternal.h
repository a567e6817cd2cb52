//===- RuntimeInternal.h - Shared pieces of the runtime ---------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// What the runtime's files share: the error status, a heap array whose
// allocation failure is a status, checked size arithmetic, memref
// descriptors of dense buffers, and the model object. Not installed.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_LIB_RUNTIME_RUNTIMEINTERNAL_H
#define HYBRID_LIB_RUNTIME_RUNTIMEINTERNAL_H

#include "hybrid/Runtime/hybrid_runtime.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace hybrid::runtime {

/// Records `message` as this thread's last error and returns `status`.
hybrid_status fail(hybrid_status status, const std::string &message);

/// A heap array of trivially copyable T whose allocation can fail: the
/// runtime reports HYBRID_OUT_OF_MEMORY instead of aborting (it is built
/// without exceptions, so std::vector's allocation failure would abort).
template <typename T> class Buffer {
public:
  Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  Buffer(Buffer &&o) noexcept : ptr(o.ptr), count(o.count) {
    o.ptr = nullptr;
    o.count = 0;
  }
  Buffer &operator=(Buffer &&o) noexcept {
    std::swap(ptr, o.ptr);
    std::swap(count, o.count);
    return *this;
  }
  ~Buffer() { std::free(ptr); }
  /// Zero-filled storage for n values; false when it cannot be had.
  bool allocate(size_t n) {
    std::free(ptr);
    count = 0;
    ptr = static_cast<T *>(std::calloc(n ? n : 1, sizeof(T)));
    if (!ptr)
      return false;
    count = n;
    return true;
  }
  T *data() { return ptr; }
  const T *data() const { return ptr; }
  size_t size() const { return count; }
  T *begin() { return ptr; }
  T *end() { return ptr + count; }
  const T *begin() const { return ptr; }
  const T *end() const { return ptr + count; }
  T &operator[](size_t i) { return ptr[i]; }
  const T &operator[](size_t i) const { return ptr[i]; }
  void swap(Buffer &o) {
    std::swap(ptr, o.ptr);
    std::swap(count, o.count);
  }

private:
  T *ptr = nullptr;
  size_t count = 0;
};

/// The product of n values, or false when it overflows `limit` (by default
/// what a signed 64-bit size can hold) or a value is negative.
bool checkedProduct(const int64_t *values, size_t n, size_t &out,
                    size_t limit = size_t(INT64_MAX));

/// "[2, 3]".
std::string shapeString(const int64_t *shape, int64_t rank);

/// A strided memref descriptor {allocated, aligned, offset, sizes, strides}
/// of a dense row-major buffer.
std::vector<int64_t> descriptor(const void *data, const int64_t *shape,
                                int64_t rank);

/// Writes a descriptor of a dense row-major buffer into `d` (whose size is
/// 3 + 2 * rank already).
void setDescriptor(std::vector<int64_t> &d, const void *data,
                   const int64_t *shape, int64_t rank);

/// The output shape of (batch, seq_len), and whether `capacity` floats
/// hold it (the input's and output's bytes must be representable).
hybrid_status outputFits(const hybrid_model *model, int64_t batch,
                         int64_t seqLen, size_t capacity, int64_t shape[3],
                         int32_t *rank);

/// A model over the weights of `desc` in `owned` (read from a file): takes
/// them, checks the descriptor.
hybrid_status createOwningModel(const hybrid_model_desc *desc,
                                std::vector<Buffer<float>> owned,
                                hybrid_model **model);

/// The descriptor is usable: a Hybrid model built for this runtime's ABI.
hybrid_status checkDescriptor(const hybrid_model_desc *desc,
                              hybrid_model **model);

} // namespace hybrid::runtime

struct hybrid_model {
  const hybrid_model_desc *desc = nullptr;
  /// Weights read from a file (owned), or empty.
  std::vector<hybrid::runtime::Buffer<float>> owned;
  /// One pointer per weight, owned or caller's.
  std::vector<const float *> weights;
};

#endif // HYBRID_LIB_RUNTIME_RUNTIMEINTERNAL_H
