//===- RuntimeFuzzer.cpp - libFuzzer target: the C API's checks -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Bytes as a sequence of C API calls on a stand-in model (embed 3, hidden
// 5, two states): forward, prefill, step, and the state calls, with batch,
// sequence length, output capacity, lengths and null pointers taken from
// the input (huge and negative values included). The stand-in "compiled"
// functions read every input element and write every output and next-state
// element their descriptors describe, so a call the runtime lets through
// with a buffer smaller than the shapes it passes is a sanitizer report.
// Buffers are allocated at the sizes the C API's contract asks for.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Runtime/hybrid_runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" void *_mlir_memref_to_llvm_alloc(uint64_t size);
extern "C" void _mlir_memref_to_llvm_free(void *ptr);

namespace {
constexpr int64_t kEmbed = 3, kHidden = 5;
const int64_t kW[] = {3, 5};
const hybrid_weight_info kWeights[] = {{"w", 2, kW}};
const int64_t kS0[] = {2, 3};
const int64_t kS1[] = {4};
const hybrid_weight_info kStates[] = {{"s0", 2, kS0}, {"s1", 1, kS1}};

/// Elements a descriptor of `rank` describes; touches each of them.
int64_t touch(void *descriptor, int rank, bool write) {
  auto *d = static_cast<int64_t *>(descriptor);
  auto *base = reinterpret_cast<float *>(d[1]) + d[2];
  int64_t n = 1;
  for (int i = 0; i < rank; ++i)
    n *= d[3 + i];
  volatile float sink = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (write)
      base[i] = 1.0f;
    else
      sink = sink + base[i];
  }
  return n;
}

bool sequenceOutput = true;

void forward(void **args) {
  touch(args[0], 3, false);
  touch(args[1], 2, false);
  touch(args[2], sequenceOutput ? 3 : 2, true);
  // A temporary, as compiled code allocates.
  _mlir_memref_to_llvm_free(_mlir_memref_to_llvm_alloc(256));
}

void stateful(void **args) {
  touch(args[0], 3, false);
  auto *lengths = static_cast<int64_t *>(args[1]);
  int64_t batch = lengths[3];
  auto *len = reinterpret_cast<int64_t *>(lengths[1]);
  volatile int64_t sink = 0;
  for (int64_t b = 0; b < batch; ++b)
    sink = sink + len[b];
  touch(args[2], 2, false);
  touch(args[3], 3, false);
  touch(args[4], 2, false);
  touch(args[5], sequenceOutput ? 3 : 2, true);
  touch(args[6], 3, true);
  touch(args[7], 2, true);
}

/// Reads fuzz bytes as values.
struct Reader {
  const uint8_t *p;
  size_t n;
  uint8_t byte() {
    if (!n)
      return 0;
    --n;
    return *p++;
  }
  /// Mostly small values, sometimes extreme ones.
  int64_t size() {
    switch (byte() % 8) {
    case 0:
      return int64_t(1) << (byte() % 63);
    case 1:
      return -static_cast<int64_t>(byte());
    case 2:
      return INT64_MAX - byte();
    default:
      return byte() % 6;
    }
  }
};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Reader in{data, size};
  sequenceOutput = in.byte() & 1;
  hybrid_model_desc desc{};
  desc.magic = HYBRID_MODEL_MAGIC;
  desc.abi_version = HYBRID_ABI_VERSION;
  desc.name = "fuzz";
  desc.embed_dim = kEmbed;
  desc.hidden_size = kHidden;
  desc.seq_len = in.byte() % 4 == 0 ? 2 : 0;
  desc.sequence_output = sequenceOutput;
  desc.num_weights = 1;
  desc.weights = kWeights;
  desc.forward = forward;
  desc.num_states = 2;
  desc.states = kStates;
  desc.prefill = stateful;
  desc.step = stateful;
  std::vector<float> w(15, 0.5f);
  const float *buffers[] = {w.data()};
  hybrid_model *model = nullptr;
  if (hybrid_model_create_from_buffers(&desc, buffers, 1, &model) != HYBRID_OK)
    std::abort();
  std::vector<hybrid_state *> states;
  // The largest buffers the fuzzer allocates for one call.
  constexpr int64_t kMax = 1 << 14;
  for (int call = 0; call < 32 && in.n; ++call) {
    int64_t batch = in.size(), seq = in.size();
    // Calls whose sizes the runtime must refuse: non-positive, or whose
    // input or output bytes overflow int64 (the output is [batch, seq,
    // hidden] or [batch, hidden]).
    int64_t elems = 0, outElems = 0;
    bool overflows =
        batch > 0 && seq > 0 &&
        (__builtin_mul_overflow(batch, seq, &elems) ||
         __builtin_mul_overflow(elems, kEmbed * int64_t(sizeof(float)),
                                &outElems) ||
         __builtin_mul_overflow(sequenceOutput ? elems : batch,
                                kHidden * int64_t(sizeof(float)), &outElems));
    bool mustRefuse = batch < 1 || seq < 1 || overflows;
    // Otherwise the caller's buffers are allocated at the sizes the
    // contract asks for; calls too large for that are skipped.
    bool small = !mustRefuse && batch <= kMax && seq <= kMax &&
                 batch * seq * kEmbed <= kMax;
    std::vector<float> input(small ? batch * seq * kEmbed : 1, 0.25f);
    std::vector<float> stepInput(small ? batch * kEmbed : 1, 0.25f);
    std::vector<int64_t> lengths(small ? batch : 1);
    for (int64_t &l : lengths)
      l = in.size();
    int64_t capacity = in.byte() % 4 == 0 || !small ? in.size()
                                                    : batch * seq * kHidden;
    if (capacity < 0 || capacity > kMax)
      capacity = in.byte();
    std::vector<float> output(capacity + 1);
    bool nullInput = in.byte() % 16 == 0;
    bool dataCall = small || mustRefuse;
    hybrid_status s = HYBRID_OK;
    bool sized = false; // a call taking batch and seq
    switch (in.byte() % 8) {
    case 0:
      if (!dataCall)
        break;
      sized = true;
      s = hybrid_model_forward(model, nullInput ? nullptr : input.data(),
                               batch, seq, output.data(), capacity);
      break;
    case 1: {
      // Small batches, or sizes no machine holds (which must fail).
      int64_t b = in.byte() % 4 ? in.byte() % 5
                                : (in.byte() % 2 ? -int64_t(in.byte())
                                                 : int64_t(1) << (40 + in.byte() % 23));
      hybrid_state *st = nullptr;
      s = hybrid_state_create(model, b, &st);
      if (s == HYBRID_OK) {
        if (b < 1 || b > 4)
          std::abort();
        states.push_back(st);
      }
      size_t bytes = 0;
      (void)hybrid_state_size(model, b, &bytes);
      break;
    }
    case 2:
    case 3: {
      if (states.empty() || !dataCall)
        break;
      hybrid_state *st = states[in.byte() % states.size()];
      const int64_t *len = in.byte() % 2 && small ? lengths.data() : nullptr;
      if (in.byte() % 2) {
        sized = true;
        s = hybrid_prefill(model, st, nullInput ? nullptr : input.data(),
                           batch, seq, len, output.data(), capacity);
      } else if (small) {
        s = hybrid_step(model, st, nullInput ? nullptr : stepInput.data(),
                        batch, len, output.data(), capacity);
      }
      break;
    }
    case 4:
      if (!states.empty())
        s = hybrid_state_copy(states[in.byte() % states.size()],
                              states[in.byte() % states.size()]);
      break;
    case 5:
      if (!states.empty()) {
        std::vector<int64_t> pos(8);
        s = hybrid_state_positions(states[in.byte() % states.size()],
                                   pos.data(), in.byte() % 9);
        s = hybrid_state_reset(states[in.byte() % states.size()]);
      }
      break;
    case 6: {
      int64_t shape[3];
      int32_t rank;
      s = hybrid_model_output_shape(model, batch, seq, shape, &rank);
      break;
    }
    default:
      if (!states.empty()) {
        size_t i = in.byte() % states.size();
        hybrid_state_destroy(states[i]);
        states.erase(states.begin() + i);
      }
      break;
    }
    if (s != HYBRID_OK && !hybrid_last_error()[0]) {
      std::fprintf(stderr, "runtime fuzzer: a failed call without a message\n");
      std::abort();
    }
    if (sized && mustRefuse && s == HYBRID_OK) {
      std::fprintf(stderr, "runtime fuzzer: batch %lld x seq %lld accepted\n",
                   static_cast<long long>(batch), static_cast<long long>(seq));
      std::abort();
    }
  }
  for (hybrid_state *st : states)
    hybrid_state_destroy(st);
  hybrid_model_destroy(model);
  return 0;
}
