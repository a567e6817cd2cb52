//===- MemrefCopyTest.cpp - The runtime's memrefCopy -------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// memrefCopy is what MLIR-generated code calls for copies between buffers
// whose layouts are not both contiguous; AOT libraries get it from the
// runtime. It copies blocks of trailing dimensions that are contiguous in
// both buffers with memcpy and walks the rest. Checked against an
// element-by-element copy written here, for contiguous buffers, strided
// sources and destinations (subviews), a block that ends before the last
// dimension, rank 0 and empty shapes.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace {
struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};
} // namespace

extern "C" void memrefCopy(int64_t elemSize, UnrankedMemRef *src,
                           UnrankedMemRef *dst);

namespace {

/// A strided view {data, offset, sizes, strides} of a float buffer.
struct View {
  std::vector<float> *buffer;
  int64_t offset;
  std::vector<int64_t> sizes, strides;

  std::vector<int64_t> descriptor() const {
    auto p = reinterpret_cast<int64_t>(buffer->data());
    std::vector<int64_t> d{p, p, offset};
    d.insert(d.end(), sizes.begin(), sizes.end());
    d.insert(d.end(), strides.begin(), strides.end());
    return d;
  }
  /// The linear position of every element, in row-major index order.
  std::vector<int64_t> positions() const {
    std::vector<int64_t> out{offset};
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::vector<int64_t> next;
      for (int64_t base : out)
        for (int64_t j = 0; j < sizes[i]; ++j)
          next.push_back(base + j * strides[i]);
      out = std::move(next);
    }
    return out;
  }
};

/// Copies src into dst with memrefCopy and checks every element of dst's
/// buffer: the viewed ones hold src's elements, the others are untouched.
void check(const View &src, const View &dst) {
  std::vector<float> before = *dst.buffer;
  std::vector<int64_t> sd = src.descriptor(), dd = dst.descriptor();
  UnrankedMemRef s{int64_t(src.sizes.size()), sd.data()};
  UnrankedMemRef d{int64_t(dst.sizes.size()), dd.data()};
  memrefCopy(sizeof(float), &s, &d);
  std::vector<float> want = before;
  std::vector<int64_t> from = src.positions(), to = dst.positions();
  ASSERT_EQ(from.size(), to.size());
  for (size_t i = 0; i < from.size(); ++i)
    want[to[i]] = (*src.buffer)[from[i]];
  EXPECT_EQ(*dst.buffer, want);
}

std::vector<float> iota(size_t n, float start) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST(MemrefCopy, Contiguous) {
  std::vector<float> a = iota(24, 1), b(24, -1);
  check({&a, 0, {2, 3, 4}, {12, 4, 1}}, {&b, 0, {2, 3, 4}, {12, 4, 1}});
}

TEST(MemrefCopy, StridedSourceIntoContiguous) {
  // A [2, 3, 4] window at offset 5 of a [3, 5, 6] buffer.
  std::vector<float> a = iota(90, 1), b(24, -1);
  check({&a, 5, {2, 3, 4}, {30, 6, 1}}, {&b, 0, {2, 3, 4}, {12, 4, 1}});
}

TEST(MemrefCopy, ContiguousIntoStridedDestination) {
  std::vector<float> a = iota(24, 1), b(90, -1);
  check({&a, 0, {2, 3, 4}, {12, 4, 1}}, {&b, 7, {2, 3, 4}, {30, 6, 1}});
}

TEST(MemrefCopy, BlockOfTheLastTwoDimensions) {
  // Dims 1-2 are contiguous in both, dim 0 is not: blocks of 12.
  std::vector<float> a = iota(60, 1), b(48, -1);
  check({&a, 3, {3, 3, 4}, {20, 4, 1}}, {&b, 1, {3, 3, 4}, {16, 4, 1}});
}

TEST(MemrefCopy, InnerStrideNotOne) {
  std::vector<float> a = iota(40, 1), b(20, -1);
  check({&a, 1, {4, 5}, {10, 2}}, {&b, 0, {4, 5}, {5, 1}});
}

TEST(MemrefCopy, RankZeroAndEmpty) {
  std::vector<float> a{42}, b{-1};
  check({&a, 0, {}, {}}, {&b, 0, {}, {}});
  std::vector<float> c = iota(6, 1), d(6, -1);
  check({&c, 0, {2, 0, 3}, {3, 3, 1}}, {&d, 0, {2, 0, 3}, {3, 3, 1}});
}

TEST(MemrefCopy, HighRank) {
  // Rank 18 (more than the 16 dimensions tracked without allocation), every
  // size 1 but two, strided.
  std::vector<int64_t> sizes(18, 1), sStrides(18, 1), dStrides(18, 1);
  sizes[3] = 3;
  sizes[17] = 2;
  sStrides[3] = 5;
  sStrides[17] = 2;
  dStrides[3] = 2;
  dStrides[17] = 1;
  std::vector<float> a = iota(20, 1), b(8, -1);
  check({&a, 0, sizes, sStrides}, {&b, 0, sizes, dStrides});
}

} // namespace
