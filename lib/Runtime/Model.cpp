//===- Model.cpp - Models and their forward pass ------------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The error status, the version, model descriptors and their checks, models
// over caller buffers, the output shape and the forward call.
//
//===----------------------------------------------------------------------===//

#include "RuntimeInternal.h"

#include <new>

#ifndef HYBRID_VERSION_STRING
#error "the build defines HYBRID_VERSION_STRING (the project's version)"
#endif

using namespace hybrid::runtime;

namespace {
thread_local std::string lastError;
} // namespace

hybrid_status hybrid::runtime::fail(hybrid_status status,
                                    const std::string &message) {
  lastError = message;
  return status;
}

bool hybrid::runtime::checkedProduct(const int64_t *values, size_t n,
                                     size_t &out, size_t limit) {
  size_t p = 1;
  for (size_t i = 0; i < n; ++i) {
    if (values[i] < 0 ||
        __builtin_mul_overflow(p, static_cast<size_t>(values[i]), &p) ||
        p > limit)
      return false;
  }
  out = p;
  return true;
}

std::string hybrid::runtime::shapeString(const int64_t *shape, int64_t rank) {
  std::string s = "[";
  for (int64_t i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<int64_t> hybrid::runtime::descriptor(const void *data,
                                                 const int64_t *shape,
                                                 int64_t rank) {
  std::vector<int64_t> d(3 + 2 * rank);
  setDescriptor(d, data, shape, rank);
  return d;
}

void hybrid::runtime::setDescriptor(std::vector<int64_t> &d, const void *data,
                                    const int64_t *shape, int64_t rank) {
  auto p = reinterpret_cast<int64_t>(data);
  d[0] = d[1] = p;
  d[2] = 0;
  int64_t stride = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    d[3 + i] = shape[i];
    d[3 + rank + i] = stride;
    stride *= shape[i];
  }
}

extern "C" const char *hybrid_last_error(void) { return lastError.c_str(); }

extern "C" const char *hybrid_runtime_version(void) {
  return HYBRID_VERSION_STRING;
}

extern "C" int32_t hybrid_runtime_abi_version(void) {
  return HYBRID_ABI_VERSION;
}

hybrid_status hybrid::runtime::checkDescriptor(const hybrid_model_desc *desc,
                                               hybrid_model **model) {
  if (!desc || !model)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_model_create: desc and model must not be null");
  // Checked before any other field is read: a descriptor of another ABI
  // has another layout.
  if (desc->magic != HYBRID_MODEL_MAGIC)
    return fail(HYBRID_VERSION_MISMATCH,
                "hybrid_model_create: not a Hybrid model descriptor, or one "
                "compiled by a hybrid-compile older than ABI version 1 "
                "(recompile the model)");
  if (desc->abi_version != HYBRID_ABI_VERSION)
    return fail(HYBRID_VERSION_MISMATCH,
                "hybrid_model_create: the model was compiled for runtime "
                "ABI version " +
                    std::to_string(desc->abi_version) +
                    ", this runtime (" HYBRID_VERSION_STRING
                    ") implements version " +
                    std::to_string(HYBRID_ABI_VERSION) +
                    " (recompile the model, or link the runtime of the "
                    "compiler that built it)");
  if (!desc->name || !desc->forward || desc->num_weights < 0 ||
      (desc->num_weights > 0 && !desc->weights))
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_model_create: malformed model descriptor");
  return HYBRID_OK;
}

hybrid_status
hybrid::runtime::createOwningModel(const hybrid_model_desc *desc,
                                   std::vector<Buffer<float>> owned,
                                   hybrid_model **model) {
  auto *m = new (std::nothrow) hybrid_model();
  if (!m)
    return fail(HYBRID_OUT_OF_MEMORY, "out of memory");
  m->desc = desc;
  m->owned = std::move(owned);
  for (auto &v : m->owned)
    m->weights.push_back(v.data());
  *model = m;
  return HYBRID_OK;
}

extern "C" hybrid_status
hybrid_model_create_from_buffers(const hybrid_model_desc *desc,
                                 const float *const *buffers,
                                 size_t num_buffers, hybrid_model **model) {
  if (hybrid_status s = checkDescriptor(desc, model))
    return s;
  if (num_buffers != static_cast<size_t>(desc->num_weights))
    return fail(HYBRID_INVALID_ARGUMENT,
                "model '" + std::string(desc->name) + "' takes " +
                    std::to_string(desc->num_weights) + " weight buffers, got " +
                    std::to_string(num_buffers));
  if (num_buffers && !buffers)
    return fail(HYBRID_INVALID_ARGUMENT, "buffers must not be null");
  for (size_t i = 0; i < num_buffers; ++i)
    if (!buffers[i])
      return fail(HYBRID_INVALID_ARGUMENT,
                  "weight buffer " + std::to_string(i) + " ('" +
                      desc->weights[i].name + "') is null");
  auto *m = new (std::nothrow) hybrid_model();
  if (!m)
    return fail(HYBRID_OUT_OF_MEMORY, "out of memory");
  m->desc = desc;
  m->weights.assign(buffers, buffers + num_buffers);
  *model = m;
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_model_output_shape(const hybrid_model *model,
                                                   int64_t batch,
                                                   int64_t seq_len,
                                                   int64_t shape[3],
                                                   int32_t *rank) {
  if (!model || !shape || !rank)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_model_output_shape: null argument");
  if (batch < 1 || seq_len < 1)
    return fail(HYBRID_INVALID_ARGUMENT,
                "batch and seq_len must be >= 1, got " +
                    std::to_string(batch) + " and " + std::to_string(seq_len));
  const hybrid_model_desc *d = model->desc;
  shape[0] = batch;
  if (d->sequence_output) {
    shape[1] = seq_len;
    shape[2] = d->hidden_size;
    *rank = 3;
  } else {
    shape[1] = d->hidden_size;
    shape[2] = 0;
    *rank = 2;
  }
  return HYBRID_OK;
}

hybrid_status hybrid::runtime::outputFits(const hybrid_model *model,
                                          int64_t batch, int64_t seqLen,
                                          size_t capacity, int64_t shape[3],
                                          int32_t *rank) {
  if (hybrid_status s =
          hybrid_model_output_shape(model, batch, seqLen, shape, rank))
    return s;
  // Bytes of the output and the input must be representable (the compiled
  // code indexes them with int64 strides).
  size_t needed = 0, inputFloats = 0;
  int64_t inShape[3] = {batch, seqLen, model->desc->embed_dim};
  if (!checkedProduct(shape, *rank, needed, size_t(INT64_MAX) / 4) ||
      !checkedProduct(inShape, 3, inputFloats, size_t(INT64_MAX) / 4))
    return fail(HYBRID_INVALID_ARGUMENT,
                "batch " + std::to_string(batch) + " x seq_len " +
                    std::to_string(seqLen) +
                    " is too large: the input or output size overflows");
  if (capacity < needed)
    return fail(HYBRID_INVALID_ARGUMENT,
                "the output needs " + std::to_string(needed) +
                    " floats, the buffer holds " + std::to_string(capacity));
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_model_forward(const hybrid_model *model,
                                              const float *input,
                                              int64_t batch, int64_t seq_len,
                                              float *output,
                                              size_t output_capacity) {
  if (!model || !input || !output)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_model_forward: model, input and output must not be "
                "null");
  int64_t shape[3];
  int32_t rank;
  if (hybrid_status s =
          outputFits(model, batch, seq_len, output_capacity, shape, &rank))
    return s;
  const hybrid_model_desc *d = model->desc;
  if (d->seq_len && seq_len != d->seq_len)
    return fail(HYBRID_SHAPE_MISMATCH,
                "model '" + std::string(d->name) + "' was compiled for " +
                    "seq_len " + std::to_string(d->seq_len) + ", got " +
                    std::to_string(seq_len));
  std::vector<std::vector<int64_t>> descs;
  int64_t inShape[3] = {batch, seq_len, d->embed_dim};
  descs.push_back(descriptor(input, inShape, 3));
  for (int32_t i = 0; i < d->num_weights; ++i)
    descs.push_back(descriptor(model->weights[i], d->weights[i].shape,
                               d->weights[i].rank));
  descs.push_back(descriptor(output, shape, rank));
  std::vector<void *> args;
  for (auto &v : descs)
    args.push_back(v.data());
  return hybrid_invoke_guarded(d->forward, args.data());
}

extern "C" hybrid_status hybrid_model_weight(const hybrid_model *model,
                                             int32_t index,
                                             const float **data) {
  if (!model || !data)
    return fail(HYBRID_INVALID_ARGUMENT, "hybrid_model_weight: null argument");
  if (index < 0 || index >= model->desc->num_weights)
    return fail(HYBRID_INVALID_ARGUMENT,
                "weight index " + std::to_string(index) + " out of range [0, " +
                    std::to_string(model->desc->num_weights) + ")");
  *data = model->weights[index];
  return HYBRID_OK;
}

extern "C" void hybrid_model_destroy(hybrid_model *model) { delete model; }
