/*===- hybrid_runtime.h - C API of compiled Hybrid models ----------*- C -*-===*\
|*                                                                            *|
|* Part of the Hybrid project: an MLIR compiler for hybrid sequence models.   *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* The plain C API an application uses to run a model compiled by            *|
|* `hybrid-compile --target=cpu --emit=obj|shared` (plus `--emit=header` for  *|
|* the model's descriptor). Link the model object or library, the runtime    *|
|* (libhybrid_runtime) and libomp; no MLIR or LLVM headers or libraries.      *|
|*                                                                            *|
|* Every call returns a hybrid_status; on failure hybrid_last_error() says    *|
|* what went wrong (a thread-local message) and nothing else changed.         *|
|*                                                                            *|
|* Thread safety: a hybrid_model is immutable after creation; concurrent      *|
|* hybrid_model_forward calls on one model from several threads are safe      *|
|* when each passes its own input and output buffers (the compiled code       *|
|* allocates its temporaries per call). Each call uses the OpenMP thread pool *|
|* (OMP_NUM_THREADS).                                                         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef HYBRID_RUNTIME_HYBRID_RUNTIME_H
#define HYBRID_RUNTIME_HYBRID_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime's C API is what its shared library exports. */
#if defined(__GNUC__) || defined(__clang__)
#define HYBRID_API __attribute__((visibility("default")))
#else
#define HYBRID_API
#endif

typedef enum hybrid_status {
  HYBRID_OK = 0,
  /** A null pointer, a non-positive size, or a buffer that is too small. */
  HYBRID_INVALID_ARGUMENT = 1,
  /** The input or a weight has the wrong shape or dtype. */
  HYBRID_SHAPE_MISMATCH = 2,
  /** A weight the model needs is not in the file. */
  HYBRID_MISSING_WEIGHT = 3,
  /** The weights file cannot be read or is not a valid safetensors file. */
  HYBRID_IO_ERROR = 4,
  HYBRID_OUT_OF_MEMORY = 5,
  /** A state of another model or batch size, or a model compiled without
   *  its stateful form (hybrid-compile --stateful). */
  HYBRID_BAD_STATE = 6,
  /** The model descriptor was compiled for another version of this API
   *  (or is not a Hybrid model): recompile the model. */
  HYBRID_VERSION_MISMATCH = 7
} hybrid_status;

/** The version of the descriptor layout and calling conventions between
 *  compiled models and this runtime. Every model descriptor records the
 *  version it was compiled for; the runtime refuses any other. */
#define HYBRID_ABI_VERSION 1
/** The first field of every model descriptor ("HYBR" little-endian). */
#define HYBRID_MODEL_MAGIC 0x52425948u

/** The runtime's release ("0.2.0"). */
HYBRID_API const char *hybrid_runtime_version(void);

/** HYBRID_ABI_VERSION of the runtime the program linked (which may differ
 *  from the header's when the runtime is a shared library). */
HYBRID_API int32_t hybrid_runtime_abi_version(void);

/** One weight tensor of a model (f32, row-major). */
typedef struct hybrid_weight_info {
  const char *name;
  int32_t rank;
  const int64_t *shape;
} hybrid_weight_info;

/** The calling convention of a compiled forward function: one pointer per
 *  argument, each to a strided memref descriptor (input, weights..., output).
 */
typedef void (*hybrid_forward_fn)(void **descriptors);

/** What a compiled model is; emitted by hybrid-compile into the object. */
typedef struct hybrid_model_desc {
  /** HYBRID_MODEL_MAGIC and the HYBRID_ABI_VERSION the model was compiled
   *  for: checked before anything else is read. */
  uint32_t magic;
  int32_t abi_version;
  const char *name;
  int64_t embed_dim;
  int64_t hidden_size;
  /** 0 when the sequence length is chosen at run time. */
  int64_t seq_len;
  /** 1: output [batch, seq, hidden]; 0: last position [batch, hidden]. */
  int32_t sequence_output;
  int32_t num_weights;
  const hybrid_weight_info *weights;
  hybrid_forward_fn forward;
  /** The stateful form (hybrid-compile --stateful; 0 and NULLs otherwise):
   *  the per-sequence state tensors (f32, shapes without the batch
   *  dimension), and the prefill and one-position step functions, both
   *  called with (input, lengths, weights..., states..., output,
   *  next states...). */
  int32_t num_states;
  const hybrid_weight_info *states;
  hybrid_forward_fn prefill;
  hybrid_forward_fn step;
} hybrid_model_desc;

typedef struct hybrid_model hybrid_model;

/** The message of the last failed call on this thread ("" if none). */
HYBRID_API const char *hybrid_last_error(void);

/** A model whose weights are read from a .safetensors file (F32 tensors,
 *  named as the model's weights; extra tensors are ignored). */
HYBRID_API hybrid_status hybrid_model_create_from_file(const hybrid_model_desc *desc,
                                                       const char *path,
                                                       hybrid_model **model);

/** The same from the bytes of a .safetensors file in memory (copied: the
 *  caller may free them after the call). */
HYBRID_API hybrid_status hybrid_model_create_from_memory(const hybrid_model_desc *desc,
                                                         const void *data, size_t size,
                                                         hybrid_model **model);

/** A model over caller-owned weight buffers, one per desc->weights entry, in
 *  that order; the buffers must outlive the model (they are not copied). */
HYBRID_API hybrid_status hybrid_model_create_from_buffers(const hybrid_model_desc *desc,
                                                          const float *const *buffers,
                                                          size_t num_buffers,
                                                          hybrid_model **model);

/** The output shape for a batch and sequence length: rank 2 or 3. */
HYBRID_API hybrid_status hybrid_model_output_shape(const hybrid_model *model,
                                                   int64_t batch, int64_t seq_len,
                                                   int64_t shape[3], int32_t *rank);

/** Runs the forward pass on input [batch, seq_len, embed_dim] into output,
 *  which holds at least output_capacity floats. */
HYBRID_API hybrid_status hybrid_model_forward(const hybrid_model *model,
                                              const float *input, int64_t batch,
                                              int64_t seq_len, float *output,
                                              size_t output_capacity);

/** The weights of a model (for inspection): a pointer to weight `index`
 *  (desc->weights order), valid while the model lives. */
HYBRID_API hybrid_status hybrid_model_weight(const hybrid_model *model, int32_t index,
                                             const float **data);

HYBRID_API void hybrid_model_destroy(hybrid_model *model);

/*===----------------------------------------------------------------------===*
 * Stateful inference (models compiled with hybrid-compile --stateful)
 *
 * A hybrid_state holds, for a batch of sequences, every layer's recurrent
 * state, conv tails and the attention windows' K/V caches: a fixed size,
 * whatever the sequences' lengths (hybrid_state_size). Prefill a prompt in
 * one call or in chunks, then decode one position per sequence with
 * hybrid_step; each call continues from where the previous one left the
 * state. Copying a state (hybrid_state_copy) is a snapshot, copying it back
 * a restore: prefix caching, rolling back speculative tokens.
 *
 * A failed call leaves the state as it was. A state belongs to one model
 * and one batch size; use it from one thread at a time (different states
 * of one model may run concurrently). Calls allocate nothing in the
 * runtime: the state owns the buffers of the next state and the argument
 * descriptors.
 *===----------------------------------------------------------------------===*/

typedef struct hybrid_state hybrid_state;

/** Bytes of the state of `batch` sequences (the tensors, not the double
 *  buffer the state also holds for the next state). */
HYBRID_API hybrid_status hybrid_state_size(const hybrid_model *model, int64_t batch,
                                           size_t *bytes);

/** A state for `batch` sequences, at their start (zeros). */
HYBRID_API hybrid_status hybrid_state_create(const hybrid_model *model, int64_t batch,
                                             hybrid_state **state);

/** Back to the start of every sequence. */
HYBRID_API hybrid_status hybrid_state_reset(hybrid_state *state);

/** dst = src (same model and batch): snapshot and restore. */
HYBRID_API hybrid_status hybrid_state_copy(const hybrid_state *src, hybrid_state *dst);

/** The positions each sequence has consumed: `batch` values. */
HYBRID_API hybrid_status hybrid_state_positions(const hybrid_state *state,
                                                int64_t *positions, size_t capacity);

HYBRID_API void hybrid_state_destroy(hybrid_state *state);

/** Continues every sequence of the state with input [batch, seq_len,
 *  embed_dim]. `lengths` (NULL: all seq_len) holds, per sequence, how many
 *  of the chunk's positions belong to it (0..seq_len): later positions
 *  change neither its state nor its output. Output as
 *  hybrid_model_output_shape says: [batch, seq_len, hidden] (zero past a
 *  sequence's length) or [batch, hidden] (each sequence's last position,
 *  zero if it consumed none). */
HYBRID_API hybrid_status hybrid_prefill(const hybrid_model *model, hybrid_state *state,
                                        const float *input, int64_t batch,
                                        int64_t seq_len, const int64_t *lengths,
                                        float *output, size_t output_capacity);

/** One position per sequence: x [batch, embed_dim] -> output [batch,
 *  hidden], through the function compiled for one position. `active`
 *  (NULL: all) holds 1 for the sequences that advance and 0 for those that
 *  keep their state (their output is zero). */
HYBRID_API hybrid_status hybrid_step(const hybrid_model *model, hybrid_state *state,
                                     const float *x, int64_t batch,
                                     const int64_t *active, float *output,
                                     size_t output_capacity);

/** Calls a compiled function `fn` (descriptor pointers as the model's
 *  forward, prefill and step take them) so that its allocation failures
 *  return HYBRID_OUT_OF_MEMORY instead of crashing: the buffers the call
 *  allocated are freed and the caller's buffers are as the call left them.
 *  hybrid_model_forward, hybrid_prefill and hybrid_step call through it
 *  (a failed prefill or step leaves the state unchanged). A failure on an
 *  OpenMP worker thread, or inside a parallel region, cannot unwind: the
 *  runtime then prints a message and aborts. */
HYBRID_API hybrid_status hybrid_invoke_guarded(hybrid_forward_fn fn, void **args);

#ifdef __cplusplus
}
#endif

#endif /* HYBRID_RUNTIME_HYBRID_RUNTIME_H */
