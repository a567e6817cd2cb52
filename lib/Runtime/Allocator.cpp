//===- Allocator.cpp - The compiled code's allocations -----------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Allocation of the compiled code's temporaries, and guarded calls.
//
// The CPU pipeline lowers memref.alloc/dealloc to MLIR's generic allocation
// functions (`use-generic-functions`). They are defined here, so every
// buffer the compiled code allocates goes through a per-thread cache of
// freed blocks in power-of-two size classes: a decode step allocates the
// same sizes on every call, so after the first call it takes no memory from
// the system. Blocks are 64-byte aligned; the 16 bytes before a block say
// where its allocation starts and its class (-1: not cached: alignments
// above 64, sizes above the largest class). Each thread keeps at most 64
// blocks per class and 256 MiB in all; what does not fit is freed.
//===----------------------------------------------------------------------===//

#include "RuntimeInternal.h"

#include <csetjmp>
#include <cstdio>
#include <mutex>

using namespace hybrid::runtime;

/// OpenMP's, when the program has an OpenMP runtime (compiled models with
/// OpenMP do); null otherwise.
extern "C" int omp_in_parallel(void) __attribute__((weak));

namespace {
constexpr size_t kLine = 64;
constexpr int kMinClass = 6, kMaxClass = 30;
constexpr size_t kMaxBlocksPerClass = 64;
constexpr size_t kMaxCachedBytes = size_t(256) << 20;

struct CallGuard;

/// The header before every block (inside its first 64 bytes): where the
/// allocation starts, its size class, and the links of the guarded call
/// that allocated it (null when none did).
struct BlockInfo {
  void *base;
  int64_t sizeClass;
  CallGuard *owner;
  BlockInfo *prev, *next;
};
static_assert(sizeof(BlockInfo) <= kLine, "the header fits the first line");

BlockInfo *infoOf(void *ptr) { return static_cast<BlockInfo *>(ptr) - 1; }

/// A call into compiled code whose allocation failure unwinds to the caller
/// (hybrid_invoke_guarded): the blocks the calling thread allocates during
/// the call are linked here, so a failed call frees them all.
struct CallGuard {
  std::jmp_buf env;
  std::mutex mutex; // frees may come from other threads
  BlockInfo *blocks = nullptr;
  uint64_t failedBytes = 0;
};
thread_local CallGuard *activeGuard = nullptr;

void link(CallGuard *g, BlockInfo *info) {
  std::lock_guard<std::mutex> lock(g->mutex);
  info->owner = g;
  info->prev = nullptr;
  info->next = g->blocks;
  if (g->blocks)
    g->blocks->prev = info;
  g->blocks = info;
}

void unlink(BlockInfo *info) {
  CallGuard *g = info->owner;
  if (!g)
    return;
  std::lock_guard<std::mutex> lock(g->mutex);
  if (info->prev)
    info->prev->next = info->next;
  else
    g->blocks = info->next;
  if (info->next)
    info->next->prev = info->prev;
  info->owner = nullptr;
}

struct BlockCache {
  std::vector<void *> blocks[kMaxClass + 1];
  size_t bytes = 0;
  void release() {
    for (auto &list : blocks) {
      for (void *base : list)
        std::free(base);
      list.clear();
    }
    bytes = 0;
  }
  ~BlockCache() { release(); }
};
thread_local BlockCache blockCache;

int sizeClassOf(size_t size) {
  int c = kMinClass;
  while (c <= kMaxClass && (size_t(1) << c) < size)
    ++c;
  return c;
}

/// aligned_alloc, retried once after returning this thread's cached blocks
/// to the system.
void *systemAlloc(size_t alignment, size_t bytes) {
  if (void *p = std::aligned_alloc(alignment, bytes))
    return p;
  blockCache.release();
  return std::aligned_alloc(alignment, bytes);
}

void *allocateBlock(size_t size, size_t alignment) {
  int c = sizeClassOf(size);
  void *ptr = nullptr;
  if (alignment <= kLine && c <= kMaxClass) {
    std::vector<void *> &list = blockCache.blocks[c];
    void *base;
    if (!list.empty()) {
      base = list.back();
      list.pop_back();
      blockCache.bytes -= size_t(1) << c;
    } else {
      base = systemAlloc(kLine, kLine + (size_t(1) << c));
      if (!base)
        return nullptr;
    }
    ptr = static_cast<char *>(base) + kLine;
    *infoOf(ptr) = {base, c, nullptr, nullptr, nullptr};
  } else {
    // Not cached: a header of one alignment unit, at least 64 bytes.
    size_t header = alignment > kLine ? alignment : kLine;
    if (size > SIZE_MAX - 2 * header || (alignment & (alignment - 1)))
      return nullptr;
    size_t total = (header + size + header - 1) / header * header;
    void *base = systemAlloc(header, total);
    if (!base)
      return nullptr;
    ptr = static_cast<char *>(base) + header;
    *infoOf(ptr) = {base, -1, nullptr, nullptr, nullptr};
  }
  if (activeGuard)
    link(activeGuard, infoOf(ptr));
  return ptr;
}

void freeBlock(void *ptr) {
  if (!ptr)
    return;
  unlink(infoOf(ptr));
  BlockInfo info = *infoOf(ptr);
  if (info.sizeClass >= kMinClass && info.sizeClass <= kMaxClass) {
    size_t bytes = size_t(1) << info.sizeClass;
    std::vector<void *> &list = blockCache.blocks[info.sizeClass];
    if (list.size() < kMaxBlocksPerClass &&
        blockCache.bytes + bytes <= kMaxCachedBytes) {
      list.push_back(info.base);
      blockCache.bytes += bytes;
      return;
    }
  }
  std::free(info.base);
}

/// The compiled code could not allocate `size` bytes. Inside a guarded call
/// on the calling thread (and outside an OpenMP parallel region, which a
/// jump must not leave), unwinds to hybrid_invoke_guarded. Otherwise there
/// is no way to report it to the caller: says so and aborts, rather than
/// letting the compiled code write through a null pointer.
[[noreturn]] void allocationFailed(uint64_t size) {
  CallGuard *g = activeGuard;
  if (g && !(omp_in_parallel && omp_in_parallel())) {
    g->failedBytes = size;
    std::longjmp(g->env, 1);
  }
  std::fprintf(stderr,
               "hybrid runtime: out of memory: compiled code could not "
               "allocate %llu bytes %s\n",
               static_cast<unsigned long long>(size),
               g ? "inside a parallel region" : "outside a guarded call");
  std::abort();
}
} // namespace

extern "C" hybrid_status hybrid_invoke_guarded(void (*fn)(void **),
                                               void **args) {
  CallGuard guard;
  CallGuard *outer = activeGuard;
  activeGuard = &guard;
  if (setjmp(guard.env) == 0) {
    fn(args);
    activeGuard = outer;
    // What the call still holds (nothing, for functions that return no
    // buffers) stays allocated, but no longer belongs to a call.
    std::lock_guard<std::mutex> lock(guard.mutex);
    for (BlockInfo *b = guard.blocks; b; b = b->next)
      b->owner = nullptr;
    return HYBRID_OK;
  }
  activeGuard = outer;
  // Free every block the failed call allocated and did not free.
  std::vector<void *> bases;
  {
    std::lock_guard<std::mutex> lock(guard.mutex);
    for (BlockInfo *b = guard.blocks; b; b = b->next)
      bases.push_back(b->base);
    guard.blocks = nullptr;
  }
  for (void *base : bases)
    std::free(base);
  return fail(HYBRID_OUT_OF_MEMORY,
              "out of memory: the compiled model could not allocate " +
                  std::to_string(guard.failedBytes) +
                  " bytes (the call changed nothing and freed what it had "
                  "allocated)");
}

extern "C" HYBRID_API void *_mlir_memref_to_llvm_alloc(uint64_t size) {
  if (void *p = allocateBlock(size, kLine))
    return p;
  allocationFailed(size);
}

extern "C" HYBRID_API void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment,
                                                    uint64_t size) {
  if (void *p = allocateBlock(size, alignment))
    return p;
  allocationFailed(size);
}

extern "C" HYBRID_API void _mlir_memref_to_llvm_free(void *ptr) { freeBlock(ptr); }
