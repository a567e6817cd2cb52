//===- HostileInputTest.cpp - The runtime against hostile callers -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The C API against what a careless or hostile caller passes: sizes whose
// products overflow, batches no machine holds, corrupt safetensors headers
// (dims and offsets beyond 2^63, negative, fractional), and compiled code
// that runs out of memory. Every case must return a status and a message,
// change nothing, and (under the sanitizer configuration) run clean.
//
// The "compiled functions" here are plain C++ functions with the compiled
// calling convention: what matters is what the runtime does around them.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Runtime/hybrid_runtime.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size);
extern "C" void _mlir_memref_to_llvm_free(void *ptr);

namespace {

const int64_t kWeightShape[] = {4};
const hybrid_weight_info kWeights[] = {{"w", 1, kWeightShape}};
const int64_t kStateShape[] = {8, 16};
const hybrid_weight_info kStates[] = {{"s", 2, kStateShape}};

int calls = 0;

/// A compiled function that works: allocates, frees, writes its output
/// (the last descriptor of forward; the one after the states for prefill).
void okForward(void **) {
  ++calls;
  void *p = _mlir_memref_to_llvm_alloc(1000);
  std::memset(p, 1, 1000);
  _mlir_memref_to_llvm_free(p);
}

/// One that runs out of memory after allocating (and not freeing) some
/// blocks: the runtime must free them and report.
void oomForward(void **) {
  ++calls;
  for (int i = 0; i < 10; ++i)
    std::memset(_mlir_memref_to_llvm_alloc(4096), 0, 4096);
  // 2^62 bytes: no machine has them.
  void *p = _mlir_memref_to_llvm_alloc(uint64_t(1) << 62);
  std::memset(p, 0, 1); // never reached
}

hybrid_model_desc desc(hybrid_forward_fn fn, bool stateful) {
  hybrid_model_desc d{};
  d.magic = HYBRID_MODEL_MAGIC;
  d.abi_version = HYBRID_ABI_VERSION;
  d.name = "hostile";
  d.embed_dim = 4;
  d.hidden_size = 4;
  d.seq_len = 0;
  d.sequence_output = 1;
  d.num_weights = 1;
  d.weights = kWeights;
  d.forward = fn;
  if (stateful) {
    d.num_states = 1;
    d.states = kStates;
    d.prefill = fn;
    d.step = fn;
  }
  return d;
}

struct Model {
  hybrid_model_desc d;
  hybrid_model *m = nullptr;
  float w[4] = {1, 2, 3, 4};
  Model(hybrid_forward_fn fn, bool stateful) : d(desc(fn, stateful)) {
    const float *buffers[] = {w};
    EXPECT_EQ(hybrid_model_create_from_buffers(&d, buffers, 1, &m),
              HYBRID_OK);
  }
  ~Model() { hybrid_model_destroy(m); }
};

TEST(HostileInput, OutputSizeOverflowIsRefused) {
  Model model(okForward, false);
  float in[16] = {}, out[16] = {};
  calls = 0;
  // 2^60 x 1 x 4 floats wraps a size_t byte count: must not pass for a
  // 16-float buffer.
  EXPECT_EQ(hybrid_model_forward(model.m, in, int64_t(1) << 60, 1, out, 16),
            HYBRID_INVALID_ARGUMENT);
  EXPECT_NE(std::string(hybrid_last_error()).find("too large"),
            std::string::npos)
      << hybrid_last_error();
  EXPECT_EQ(hybrid_model_forward(model.m, in, 3, int64_t(1) << 62, out, 16),
            HYBRID_INVALID_ARGUMENT);
  EXPECT_EQ(hybrid_model_forward(model.m, in, INT64_MAX, INT64_MAX, out, 16),
            HYBRID_INVALID_ARGUMENT);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(hybrid_model_forward(model.m, in, 2, 2, out, 16), HYBRID_OK);
  EXPECT_EQ(calls, 1);
}

TEST(HostileInput, StateSizesOverflowOrExhaustMemory) {
  Model model(okForward, true);
  size_t bytes = 123;
  EXPECT_EQ(hybrid_state_size(model.m, int64_t(1) << 62, &bytes),
            HYBRID_INVALID_ARGUMENT);
  EXPECT_EQ(bytes, 123u); // unchanged
  EXPECT_EQ(hybrid_state_size(model.m, 3, &bytes), HYBRID_OK);
  EXPECT_EQ(bytes, 3u * 8 * 16 * 4);
  hybrid_state *s = nullptr;
  // Representable, but 2^40 x 512 bytes twice: out of memory, not abort.
  hybrid_status st = hybrid_state_create(model.m, int64_t(1) << 40, &s);
  EXPECT_EQ(st, HYBRID_OUT_OF_MEMORY) << hybrid_last_error();
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(hybrid_state_create(model.m, int64_t(1) << 62, &s),
            HYBRID_INVALID_ARGUMENT);
  EXPECT_EQ(hybrid_state_create(model.m, 2, &s), HYBRID_OK);
  hybrid_state_destroy(s);
}

TEST(HostileInput, CompiledCodeOutOfMemoryIsAStatus) {
  Model model(oomForward, false);
  float in[8] = {}, out[8] = {};
  calls = 0;
  for (int i = 0; i < 3; ++i) { // the guard can be used again
    EXPECT_EQ(hybrid_model_forward(model.m, in, 1, 2, out, 8),
              HYBRID_OUT_OF_MEMORY);
    EXPECT_NE(std::string(hybrid_last_error()).find("could not allocate"),
              std::string::npos)
        << hybrid_last_error();
  }
  EXPECT_EQ(calls, 3);
  // Allocation still works afterwards.
  void *p = _mlir_memref_to_llvm_alloc(4096);
  ASSERT_NE(p, nullptr);
  _mlir_memref_to_llvm_free(p);
}

/// A prefill that writes a marker into the next state and then runs out of
/// memory: the state must stay as it was.
void oomAfterWritingState(void **args) {
  // (input, lengths, w, state, output, next state): descriptors start with
  // {allocated, aligned, ...}.
  auto *next = reinterpret_cast<float *>(static_cast<int64_t *>(args[5])[1]);
  next[0] = 42.0f;
  oomForward(args);
}

void writeOnes(void **args) {
  auto *next = reinterpret_cast<float *>(static_cast<int64_t *>(args[5])[1]);
  for (int i = 0; i < 8 * 16; ++i)
    next[i] = 1.0f;
}

TEST(HostileInput, FailedPrefillLeavesTheStateUnchanged) {
  Model good(writeOnes, true), bad(oomAfterWritingState, true);
  hybrid_state *s = nullptr;
  ASSERT_EQ(hybrid_state_create(good.m, 1, &s), HYBRID_OK);
  float in[4] = {}, out[4] = {};
  ASSERT_EQ(hybrid_prefill(good.m, s, in, 1, 1, nullptr, out, 4), HYBRID_OK);
  int64_t pos = -1;
  ASSERT_EQ(hybrid_state_positions(s, &pos, 1), HYBRID_OK);
  EXPECT_EQ(pos, 1);
  // The same state with the failing model's functions: the descriptors are
  // the model's, so rebuild a state for it and compare before/after.
  hybrid_state *t = nullptr;
  ASSERT_EQ(hybrid_state_create(bad.m, 1, &t), HYBRID_OK);
  EXPECT_EQ(hybrid_prefill(bad.m, t, in, 1, 1, nullptr, out, 4),
            HYBRID_OUT_OF_MEMORY);
  EXPECT_EQ(hybrid_step(bad.m, t, in, 1, nullptr, out, 4),
            HYBRID_OUT_OF_MEMORY);
  ASSERT_EQ(hybrid_state_positions(t, &pos, 1), HYBRID_OK);
  EXPECT_EQ(pos, 0);
  hybrid_state_destroy(s);
  hybrid_state_destroy(t);
}

/// A safetensors file `name` with the given header and data.
std::string writeFile(const std::string &name, const std::string &header,
                      const std::vector<float> &data) {
  std::string path = ::testing::TempDir() + name;
  std::FILE *f = std::fopen(path.c_str(), "wb");
  uint64_t n = header.size();
  std::fwrite(&n, 8, 1, f);
  std::fwrite(header.data(), 1, header.size(), f);
  std::fwrite(data.data(), sizeof(float), data.size(), f);
  std::fclose(f);
  return path;
}

/// A safetensors file with one tensor "w" whose header fields are given.
std::string writeSafetensors(const std::string &name, const std::string &shape,
                             const std::string &offsets, size_t dataBytes) {
  return writeFile(name,
                   "{\"w\":{\"dtype\":\"F32\",\"shape\":" + shape +
                       ",\"data_offsets\":" + offsets + "}}",
                   std::vector<float>(dataBytes / sizeof(float), 0.0f));
}

TEST(HostileInput, CorruptSafetensorsHeaders) {
  hybrid_model_desc d = desc(okForward, false);
  struct Case {
    const char *shape, *offsets;
    hybrid_status status;
  } cases[] = {
      {"[4]", "[0,16]", HYBRID_OK},
      {"[9223372036854775808]", "[0,16]", HYBRID_IO_ERROR},
      {"[1e300]", "[0,16]", HYBRID_IO_ERROR},
      {"[-4]", "[0,16]", HYBRID_IO_ERROR},
      {"[4.5]", "[0,16]", HYBRID_IO_ERROR},
      {"[\"4\"]", "[0,16]", HYBRID_IO_ERROR},
      {"[4]", "[0,18446744073709551616]", HYBRID_IO_ERROR},
      {"[4]", "[-16,0]", HYBRID_IO_ERROR},
      {"[4]", "[9223372036854775807,9223372036854775823]", HYBRID_IO_ERROR},
      {"[4]", "[0.5,16.5]", HYBRID_IO_ERROR},
      {"[4]", "[16,0]", HYBRID_IO_ERROR},
      {"[4]", "[0,20]", HYBRID_IO_ERROR},
      {"[4]", "[null,16]", HYBRID_IO_ERROR},
  };
  int i = 0;
  for (const Case &c : cases) {
    std::string path = writeSafetensors("hostile" + std::to_string(i++) +
                                            ".safetensors",
                                        c.shape, c.offsets, 16);
    hybrid_model *m = nullptr;
    hybrid_status s = hybrid_model_create_from_file(&d, path.c_str(), &m);
    EXPECT_EQ(s, c.status) << c.shape << " " << c.offsets << ": "
                           << hybrid_last_error();
    if (s == HYBRID_OK) {
      const float *w = nullptr;
      EXPECT_EQ(hybrid_model_weight(m, 0, &w), HYBRID_OK);
      hybrid_model_destroy(m);
    } else {
      EXPECT_EQ(m, nullptr);
      EXPECT_STRNE(hybrid_last_error(), "");
    }
    std::remove(path.c_str());
  }
}

TEST(HostileInput, EscapedTensorNamesAreDecoded) {
  hybrid_model_desc d = desc(okForward, false);
  std::string path = writeFile("escaped.safetensors",
                               "{\"\\u0077\":{\"dtype\":\"F32\",\"shape\":[4],"
                               "\"data_offsets\":[0,16]}}",
                               {1, 2, 3, 4});
  hybrid_model *m = nullptr;
  ASSERT_EQ(hybrid_model_create_from_file(&d, path.c_str(), &m), HYBRID_OK)
      << hybrid_last_error();
  const float *w = nullptr;
  ASSERT_EQ(hybrid_model_weight(m, 0, &w), HYBRID_OK);
  EXPECT_EQ(w[3], 4.0f);
  hybrid_model_destroy(m);
  std::remove(path.c_str());
}

} // namespace

// A descriptor compiled for another runtime ABI, or memory that is not a
// descriptor at all, is refused before any other field is read, with a
// status and a message that say what to do; nothing is created.
TEST(HostileInput, DescriptorsOfAnotherAbiAreRefused) {
  EXPECT_EQ(hybrid_runtime_abi_version(), HYBRID_ABI_VERSION);
  EXPECT_STRNE(hybrid_runtime_version(), "");
  float w[4] = {1, 2, 3, 4};
  const float *buffers[] = {w};

  hybrid_model_desc newer = desc(okForward, false);
  newer.abi_version = HYBRID_ABI_VERSION + 1;
  hybrid_model *m = nullptr;
  EXPECT_EQ(hybrid_model_create_from_buffers(&newer, buffers, 1, &m),
            HYBRID_VERSION_MISMATCH);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(hybrid_last_error())
                .find("compiled for runtime ABI version " +
                      std::to_string(HYBRID_ABI_VERSION + 1)),
            std::string::npos)
      << hybrid_last_error();

  // An older descriptor began with its name pointer: no magic number.
  hybrid_model_desc garbage = desc(okForward, false);
  garbage.magic = 0x1234;
  EXPECT_EQ(hybrid_model_create_from_file(&garbage, "/nonexistent", &m),
            HYBRID_VERSION_MISMATCH);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(hybrid_last_error())
                .find("not a Hybrid model descriptor"),
            std::string::npos)
      << hybrid_last_error();
}
