//===- SafetensorsFuzzer.cpp - libFuzzer target: weight files --*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// Bytes as a .safetensors file for a model with three weights: the
// runtime's header reader (its own small JSON parser), dtype, shape and
// offset checks. Accepted weights are read in full, so a check that lets a
// tensor reach past the file is a sanitizer report.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Runtime/hybrid_runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
const int64_t kShapeA[] = {2, 3};
const int64_t kShapeB[] = {4};
const int64_t kShapeC[] = {1, 2, 2};
const hybrid_weight_info kWeights[] = {
    {"a", 2, kShapeA}, {"layers.0.b", 1, kShapeB}, {"c", 3, kShapeC}};
void noForward(void **) {}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hybrid_model_desc desc{};
  desc.magic = HYBRID_MODEL_MAGIC;
  desc.abi_version = HYBRID_ABI_VERSION;
  desc.name = "fuzz";
  desc.embed_dim = 2;
  desc.hidden_size = 2;
  desc.num_weights = 3;
  desc.weights = kWeights;
  desc.forward = noForward;
  hybrid_model *model = nullptr;
  hybrid_status s = hybrid_model_create_from_memory(&desc, data, size, &model);
  if (s != HYBRID_OK) {
    if (model || !hybrid_last_error()[0]) {
      std::fprintf(stderr, "safetensors fuzzer: failure without a message "
                           "or with a model\n");
      std::abort();
    }
    return 0;
  }
  volatile float sum = 0;
  for (int32_t i = 0; i < desc.num_weights; ++i) {
    const float *w = nullptr;
    if (hybrid_model_weight(model, i, &w) != HYBRID_OK)
      std::abort();
    int64_t n = 1;
    for (int32_t d = 0; d < kWeights[i].rank; ++d)
      n *= kWeights[i].shape[d];
    for (int64_t j = 0; j < n; ++j)
      sum = sum + w[j];
  }
  hybrid_model_destroy(model);
  return 0;
}
