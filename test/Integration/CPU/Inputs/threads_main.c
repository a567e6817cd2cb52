/* threads_main.c: one compiled model used from several threads at once, as
 * hybrid_runtime.h promises: forward calls on separate buffers, and
 * separate states (prefill + steps) per thread. Every thread's outputs must
 * equal, bit for bit, the same calls made from one thread beforehand.
 *
 *   threads_main WEIGHTS.safetensors THREADS ROUNDS
 *
 * Built against a --stateful, output=sequence model header "model.h".
 * Each thread t runs batch 2 over its own input (seeded by t), so threads
 * do different work; the expected outputs are computed serially first.
 */
#include "model.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kBatch = 2, kSeq = 9, kMaxThreads = 16 };

static hybrid_model *model;
static int rounds;

typedef struct {
  int id;
  float *input;       /* [kBatch, kSeq, E] */
  float *expect_fwd;  /* forward outputs, serial */
  float *expect_dec;  /* prefill(kSeq - 3) + 3 steps, serial */
  int failures;
} job;

static size_t in_floats(void) { return (size_t)kBatch * kSeq * model_model.embed_dim; }
static size_t out_floats(void) { return (size_t)kBatch * kSeq * model_model.hidden_size; }

/* prefill of the first kSeq - 3 positions, then 3 steps; all outputs in
 * out ([kBatch, kSeq, H], step outputs at their positions). */
static int decode(const float *input, float *out) {
  int64_t e = model_model.embed_dim, h = model_model.hidden_size;
  int64_t pre = kSeq - 3;
  float chunk[kBatch * kSeq * 64], token[kBatch * 64], part[kBatch * kSeq * 64];
  if (e > 64 || h > 64)
    return 1;
  hybrid_state *s = NULL;
  if (hybrid_state_create(model, kBatch, &s) != HYBRID_OK)
    return 1;
  for (int64_t b = 0; b < kBatch; ++b)
    memcpy(chunk + b * pre * e, input + b * kSeq * e, (size_t)(pre * e) * 4);
  if (hybrid_prefill(model, s, chunk, kBatch, pre, NULL, part,
                     (size_t)(kBatch * pre * h)) != HYBRID_OK)
    return 1;
  for (int64_t b = 0; b < kBatch; ++b)
    memcpy(out + b * kSeq * h, part + b * pre * h, (size_t)(pre * h) * 4);
  for (int64_t t = pre; t < kSeq; ++t) {
    for (int64_t b = 0; b < kBatch; ++b)
      memcpy(token + b * e, input + (b * kSeq + t) * e, (size_t)e * 4);
    if (hybrid_step(model, s, token, kBatch, NULL, part,
                    (size_t)(kBatch * h)) != HYBRID_OK)
      return 1;
    for (int64_t b = 0; b < kBatch; ++b)
      memcpy(out + (b * kSeq + t) * h, part + b * h, (size_t)h * 4);
  }
  hybrid_state_destroy(s);
  return 0;
}

static void *run(void *arg) {
  job *j = arg;
  float *out = malloc(out_floats() * 4), *dec = malloc(out_floats() * 4);
  for (int r = 0; r < rounds; ++r) {
    if (hybrid_model_forward(model, j->input, kBatch, kSeq, out,
                             out_floats()) != HYBRID_OK ||
        memcmp(out, j->expect_fwd, out_floats() * 4) != 0)
      j->failures++;
    if (decode(j->input, dec) != 0 ||
        memcmp(dec, j->expect_dec, out_floats() * 4) != 0)
      j->failures++;
  }
  free(out);
  free(dec);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4)
    return 2;
  int threads = atoi(argv[2]);
  rounds = atoi(argv[3]);
  if (threads < 1 || threads > kMaxThreads || !model_model.sequence_output ||
      model_model.num_states == 0)
    return 2;
  if (hybrid_model_create_from_file(&model_model, argv[1], &model) !=
      HYBRID_OK) {
    fprintf(stderr, "create: %s\n", hybrid_last_error());
    return 1;
  }
  job jobs[kMaxThreads];
  for (int t = 0; t < threads; ++t) {
    job *j = &jobs[t];
    j->id = t;
    j->failures = 0;
    j->input = malloc(in_floats() * 4);
    unsigned seed = 12345u + 7919u * (unsigned)t;
    for (size_t i = 0; i < in_floats(); ++i) {
      seed = seed * 1103515245u + 12345u;
      j->input[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    j->expect_fwd = malloc(out_floats() * 4);
    j->expect_dec = malloc(out_floats() * 4);
    if (hybrid_model_forward(model, j->input, kBatch, kSeq, j->expect_fwd,
                             out_floats()) != HYBRID_OK ||
        decode(j->input, j->expect_dec) != 0) {
      fprintf(stderr, "serial: %s\n", hybrid_last_error());
      return 1;
    }
  }
  pthread_t tids[kMaxThreads];
  for (int t = 0; t < threads; ++t)
    pthread_create(&tids[t], NULL, run, &jobs[t]);
  int failures = 0;
  for (int t = 0; t < threads; ++t) {
    pthread_join(tids[t], NULL);
    failures += jobs[t].failures;
  }
  printf("%d threads x %d rounds of forward + prefill/steps: %d mismatches\n",
         threads, rounds, failures);
  printf(failures ? "FAILED\n" : "PASSED\n");
  return failures != 0;
}
