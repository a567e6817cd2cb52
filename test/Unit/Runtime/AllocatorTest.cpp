//===- AllocatorTest.cpp - The runtime's allocation functions ---*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Compiled code allocates its temporaries through _mlir_memref_to_llvm_alloc,
// _aligned_alloc and _free, which the runtime implements with a per-thread
// cache of freed blocks. Checked: alignment, usable size, reuse of a freed
// block for the next request of its size class (what makes a decode step
// allocation-free after the first call), uncached paths (large alignment,
// sizes above the largest class), null, and threads.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size);
extern "C" void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment,
                                                    uint64_t size);
extern "C" void _mlir_memref_to_llvm_free(void *ptr);

namespace {

bool aligned(void *p, uintptr_t a) {
  return reinterpret_cast<uintptr_t>(p) % a == 0;
}

TEST(Allocator, AlignedAndUsable) {
  for (uint64_t size : {0u, 1u, 63u, 64u, 65u, 1000u, 4096u, 1u << 20}) {
    void *p = _mlir_memref_to_llvm_alloc(size);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned(p, 64)) << size;
    std::memset(p, 0xab, size); // the whole size is usable
    _mlir_memref_to_llvm_free(p);
  }
}

TEST(Allocator, FreedBlocksAreReusedWithinTheirClass) {
  void *a = _mlir_memref_to_llvm_alloc(3000);
  _mlir_memref_to_llvm_free(a);
  // 3000 and 4000 bytes share the 4 KiB class: the freed block comes back.
  void *b = _mlir_memref_to_llvm_alloc(4000);
  EXPECT_EQ(a, b);
  // A different class does not take it.
  void *c = _mlir_memref_to_llvm_alloc(5000);
  EXPECT_NE(c, b);
  _mlir_memref_to_llvm_free(b);
  _mlir_memref_to_llvm_free(c);
  // The same sequence of sizes again (a decode step): the same blocks.
  std::vector<void *> first, second;
  for (int round = 0; round < 2; ++round) {
    std::vector<void *> &got = round ? second : first;
    for (uint64_t size : {256u, 1024u, 256u, 70000u})
      got.push_back(_mlir_memref_to_llvm_alloc(size));
    for (void *p : got)
      _mlir_memref_to_llvm_free(p);
  }
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  EXPECT_EQ(first, second);
}

TEST(Allocator, UncachedPaths) {
  void *p = _mlir_memref_to_llvm_aligned_alloc(4096, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(aligned(p, 4096));
  std::memset(p, 1, 100);
  _mlir_memref_to_llvm_free(p);
  void *q = _mlir_memref_to_llvm_aligned_alloc(32, 100); // cached path
  EXPECT_TRUE(aligned(q, 64));
  _mlir_memref_to_llvm_free(q);
  _mlir_memref_to_llvm_free(nullptr);
}

TEST(Allocator, Threads) {
  // Blocks allocated on one thread and freed on another are fine.
  std::vector<void *> blocks(64);
  std::thread producer([&] {
    for (size_t i = 0; i < blocks.size(); ++i) {
      blocks[i] = _mlir_memref_to_llvm_alloc(128 * (i + 1));
      std::memset(blocks[i], int(i), 128 * (i + 1));
    }
  });
  producer.join();
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t)
    workers.emplace_back([&, t] {
      for (size_t i = t; i < blocks.size(); i += 4)
        _mlir_memref_to_llvm_free(blocks[i]);
      for (int k = 0; k < 1000; ++k)
        _mlir_memref_to_llvm_free(_mlir_memref_to_llvm_alloc(64 + k));
    });
  for (std::thread &w : workers)
    w.join();
}

} // namespace
