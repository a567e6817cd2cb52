//===- State.cpp - Stateful inference: prefill and decode --------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// hybrid_state: every layer's recurrent state, conv tails and K/V windows
// for a batch of sequences, and the prefill and step calls that continue it.
//
//===----------------------------------------------------------------------===//

#include "RuntimeInternal.h"

#include <algorithm>
#include <memory>
#include <new>

using namespace hybrid::runtime;

struct hybrid_state {
  const hybrid_model *model = nullptr;
  int64_t batch = 0;
  Buffer<int64_t> positions;
  /// Where each state tensor starts in a buffer (elements).
  std::vector<size_t> offsets;
  /// The current state and the buffer the next one is written to; swapped
  /// after each successful call.
  Buffer<float> current, next;
  /// Lengths when the caller gives none.
  Buffer<int64_t> allLengths;
  /// Argument descriptors, rewritten in place by each call: input, lengths,
  /// weights, states, output, next states. Shapes of the state tensors.
  std::vector<std::vector<int64_t>> descs;
  std::vector<void *> args;
  std::vector<std::vector<int64_t>> stateShapes;
};

namespace {
hybrid_status checkStateful(const hybrid_model *model, const char *what) {
  if (!model)
    return fail(HYBRID_INVALID_ARGUMENT,
                std::string(what) + ": model must not be null");
  const hybrid_model_desc *d = model->desc;
  if (d->num_states <= 0 || !d->states || !d->prefill || !d->step)
    return fail(HYBRID_BAD_STATE,
                "model '" + std::string(d->name) +
                    "' was compiled without its stateful form "
                    "(hybrid-compile --stateful)");
  return HYBRID_OK;
}

size_t stateElements(const hybrid_weight_info &info) {
  size_t n = 1;
  for (int32_t i = 0; i < info.rank; ++i)
    n *= info.shape[i];
  return n;
}

/// Floats of every state of `batch` sequences, or false on overflow (the
/// bytes of both buffers a state keeps must fit in int64).
bool stateFloats(const hybrid_model_desc *d, int64_t batch, size_t &total) {
  size_t perSequence = 0;
  for (int32_t i = 0; i < d->num_states; ++i)
    perSequence += stateElements(d->states[i]);
  return !__builtin_mul_overflow(perSequence, static_cast<size_t>(batch),
                                 &total) &&
         total <= size_t(INT64_MAX) / (2 * sizeof(float));
}

/// The state must be `model`'s, for `batch` sequences.
hybrid_status checkState(const hybrid_model *model, const hybrid_state *state,
                         int64_t batch) {
  if (!state)
    return fail(HYBRID_INVALID_ARGUMENT, "state must not be null");
  if (state->model != model)
    return fail(HYBRID_BAD_STATE, "the state was made for another model");
  if (batch != state->batch)
    return fail(HYBRID_BAD_STATE,
                "the state holds " + std::to_string(state->batch) +
                    " sequences, but the input has batch " +
                    std::to_string(batch));
  return HYBRID_OK;
}

/// Runs `fn` on the state: fills the descriptors, calls, swaps. A failed
/// call leaves the state as it was.
hybrid_status runStateful(hybrid_forward_fn fn, hybrid_state *st, const float *input,
                 const int64_t *inShape, const int64_t *lengths,
                 float *output, const int64_t *outShape, int32_t outRank) {
  const hybrid_model_desc *d = st->model->desc;
  size_t k = 0;
  setDescriptor(st->descs[k++], input, inShape, 3);
  setDescriptor(st->descs[k++], lengths, &st->batch, 1);
  k += d->num_weights; // weights: set once at creation
  for (int32_t i = 0; i < d->num_states; ++i)
    setDescriptor(st->descs[k++], st->current.data() + st->offsets[i],
                  st->stateShapes[i].data(), d->states[i].rank + 1);
  st->descs[k].resize(3 + 2 * outRank);
  setDescriptor(st->descs[k++], output, outShape, outRank);
  for (int32_t i = 0; i < d->num_states; ++i)
    setDescriptor(st->descs[k++], st->next.data() + st->offsets[i],
                  st->stateShapes[i].data(), d->states[i].rank + 1);
  for (size_t i = 0; i < st->descs.size(); ++i)
    st->args[i] = st->descs[i].data();
  if (hybrid_status s = hybrid_invoke_guarded(fn, st->args.data()))
    return s;
  st->current.swap(st->next);
  for (int64_t b = 0; b < st->batch; ++b)
    st->positions[b] += lengths[b];
  return HYBRID_OK;
}

/// lengths: null (all `max`) or `batch` values in [0, max].
hybrid_status checkLengths(hybrid_state *st, const int64_t *&lengths,
                           int64_t max, const char *what) {
  if (!lengths) {
    std::fill(st->allLengths.begin(), st->allLengths.end(), max);
    lengths = st->allLengths.data();
    return HYBRID_OK;
  }
  for (int64_t b = 0; b < st->batch; ++b)
    if (lengths[b] < 0 || lengths[b] > max)
      return fail(HYBRID_INVALID_ARGUMENT,
                  std::string(what) + " " + std::to_string(lengths[b]) +
                      " of sequence " + std::to_string(b) +
                      " is outside [0, " + std::to_string(max) + "]");
  return HYBRID_OK;
}
} // namespace

extern "C" hybrid_status hybrid_state_size(const hybrid_model *model,
                                           int64_t batch, size_t *bytes) {
  if (hybrid_status s = checkStateful(model, "hybrid_state_size"))
    return s;
  if (!bytes || batch < 1)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_size: batch must be >= 1 and bytes not null");
  size_t n = 0;
  if (!stateFloats(model->desc, batch, n))
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_size: the state of batch " +
                    std::to_string(batch) + " is too large to represent");
  *bytes = n * sizeof(float);
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_state_create(const hybrid_model *model,
                                             int64_t batch,
                                             hybrid_state **state) {
  if (hybrid_status s = checkStateful(model, "hybrid_state_create"))
    return s;
  if (!state || batch < 1)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_create: batch must be >= 1 and state not null");
  const hybrid_model_desc *d = model->desc;
  std::unique_ptr<hybrid_state> st(new (std::nothrow) hybrid_state());
  if (!st)
    return fail(HYBRID_OUT_OF_MEMORY, "out of memory");
  size_t total = 0;
  if (!stateFloats(d, batch, total))
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_create: the state of batch " +
                    std::to_string(batch) + " is too large to represent");
  // The buffers that grow with the batch may not be had: a status, not an
  // abort.
  if (!st->positions.allocate(batch) || !st->allLengths.allocate(batch) ||
      !st->current.allocate(total) || !st->next.allocate(total))
    return fail(HYBRID_OUT_OF_MEMORY,
                "hybrid_state_create: out of memory for the state of batch " +
                    std::to_string(batch) + " (" +
                    std::to_string(2 * total * sizeof(float)) + " bytes)");
  {
    st->model = model;
    st->batch = batch;
    size_t offset = 0;
    for (int32_t i = 0; i < d->num_states; ++i) {
      st->offsets.push_back(offset);
      offset += stateElements(d->states[i]) * batch;
      std::vector<int64_t> shape{batch};
      shape.insert(shape.end(), d->states[i].shape,
                   d->states[i].shape + d->states[i].rank);
      st->stateShapes.push_back(std::move(shape));
    }
    // input, lengths, weights, states, output (sized per call), next states.
    st->descs.emplace_back(3 + 2 * 3);
    st->descs.emplace_back(3 + 2 * 1);
    for (int32_t i = 0; i < d->num_weights; ++i)
      st->descs.push_back(descriptor(model->weights[i], d->weights[i].shape,
                                     d->weights[i].rank));
    for (int32_t i = 0; i < d->num_states; ++i)
      st->descs.emplace_back(3 + 2 * (d->states[i].rank + 1));
    st->descs.emplace_back(3 + 2 * 3);
    for (int32_t i = 0; i < d->num_states; ++i)
      st->descs.emplace_back(3 + 2 * (d->states[i].rank + 1));
    st->args.resize(st->descs.size());
  }
  *state = st.release();
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_state_reset(hybrid_state *state) {
  if (!state)
    return fail(HYBRID_INVALID_ARGUMENT, "state must not be null");
  std::fill(state->current.begin(), state->current.end(), 0.0f);
  std::fill(state->positions.begin(), state->positions.end(), 0);
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_state_copy(const hybrid_state *src,
                                           hybrid_state *dst) {
  if (!src || !dst)
    return fail(HYBRID_INVALID_ARGUMENT, "hybrid_state_copy: null state");
  if (src->model != dst->model || src->batch != dst->batch)
    return fail(HYBRID_BAD_STATE,
                "hybrid_state_copy: the states belong to different models "
                "or batch sizes");
  if (src != dst) {
    std::copy(src->current.begin(), src->current.end(), dst->current.begin());
    std::copy(src->positions.begin(), src->positions.end(),
              dst->positions.begin());
  }
  return HYBRID_OK;
}

extern "C" hybrid_status hybrid_state_positions(const hybrid_state *state,
                                                int64_t *positions,
                                                size_t capacity) {
  if (!state || !positions)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_positions: null argument");
  if (capacity < static_cast<size_t>(state->batch))
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_state_positions: " + std::to_string(state->batch) +
                    " values do not fit in " + std::to_string(capacity));
  std::copy(state->positions.begin(), state->positions.end(), positions);
  return HYBRID_OK;
}

extern "C" void hybrid_state_destroy(hybrid_state *state) { delete state; }

extern "C" hybrid_status hybrid_prefill(const hybrid_model *model,
                                        hybrid_state *state,
                                        const float *input, int64_t batch,
                                        int64_t seq_len,
                                        const int64_t *lengths, float *output,
                                        size_t output_capacity) {
  if (hybrid_status s = checkStateful(model, "hybrid_prefill"))
    return s;
  if (hybrid_status s = checkState(model, state, batch))
    return s;
  if (!input || !output)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_prefill: input and output must not be null");
  int64_t shape[3];
  int32_t rank;
  if (hybrid_status s =
          outputFits(model, batch, seq_len, output_capacity, shape, &rank))
    return s;
  if (hybrid_status s = checkLengths(state, lengths, seq_len, "length"))
    return s;
  int64_t inShape[3] = {batch, seq_len, model->desc->embed_dim};
  return runStateful(model->desc->prefill, state, input, inShape, lengths,
                     output, shape, rank);
}

extern "C" hybrid_status hybrid_step(const hybrid_model *model,
                                     hybrid_state *state, const float *x,
                                     int64_t batch, const int64_t *active,
                                     float *output, size_t output_capacity) {
  if (hybrid_status s = checkStateful(model, "hybrid_step"))
    return s;
  if (hybrid_status s = checkState(model, state, batch))
    return s;
  if (!x || !output)
    return fail(HYBRID_INVALID_ARGUMENT,
                "hybrid_step: x and output must not be null");
  const hybrid_model_desc *d = model->desc;
  int64_t shape[3];
  int32_t rank;
  if (hybrid_status s =
          outputFits(model, batch, 1, output_capacity, shape, &rank))
    return s;
  if (hybrid_status s = checkLengths(state, active, 1, "active flag"))
    return s;
  int64_t inShape[3] = {batch, 1, d->embed_dim};
  // [batch, 1, hidden] for a sequence output, [batch, hidden] otherwise:
  // the same floats.
  int64_t seqShape[3] = {batch, 1, d->hidden_size};
  int64_t lastShape[2] = {batch, d->hidden_size};
  if (d->sequence_output)
    return runStateful(d->step, state, x, inShape, active, output, seqShape,
                       3);
  return runStateful(d->step, state, x, inShape, active, output, lastShape, 2);
}
