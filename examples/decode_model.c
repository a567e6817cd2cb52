/* decode_model.c: stateful inference through the C API of a model compiled
 * with its stateful form.
 *
 *   hybrid-compile --preset=jamba --set embed_dim=256 --set output=sequence \
 *       --model-name=model --stateful --target=cpu --emit=obj -o model.o
 *   hybrid-compile ... --stateful --emit=header -o model.h
 *   cc -I<hybrid>/include -I. decode_model.c model.o -lhybrid_runtime -lomp
 *   ./a.out weights.safetensors input.f32 BATCH SEQ
 *
 * The model's output must be the whole sequence (output=sequence), so that
 * every position can be compared with the forward pass over the whole
 * input, which the same library also holds. The program checks, and prints:
 *   - prefill of the first half, then one hybrid_step per position, gives
 *     the forward pass's outputs;
 *   - a batch of different lengths in one prefill gives each sequence's
 *     forward outputs up to its length and zeros after, and the next step
 *     continues each sequence from its own length;
 *   - snapshot (hybrid_state_copy), run ahead, restore, run again gives
 *     bit-identical outputs;
 *   - bad calls return status codes with messages and leave the state alone.
 * It exits non-zero when any check fails.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char *what) {
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
  failures += !ok;
}

static int expect_error(hybrid_status got, hybrid_status want,
                        const char *what) {
  if (got != want) {
    fprintf(stderr, "%s: expected status %d, got %d\n", what, want, got);
    failures++;
    return 1;
  }
  printf("error ok  %s: %s\n", what, hybrid_last_error());
  return 0;
}

/* max |a - b| / max(max |b|, 1) over n floats. */
static double rel_diff(const float *a, const float *b, size_t n) {
  double err = 0.0, scale = 1.0;
  for (size_t i = 0; i < n; ++i) {
    if (!isfinite(a[i]))
      return INFINITY;
    err = fmax(err, fabs((double)a[i] - b[i]));
    scale = fmax(scale, fabs((double)b[i]));
  }
  return err / scale;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s WEIGHTS.safetensors INPUT.f32 BATCH SEQ\n",
            argv[0]);
    return 2;
  }
  int64_t batch = atoll(argv[3]), seq = atoll(argv[4]);
  const hybrid_model_desc *desc = &model_model;
  if (!desc->sequence_output || desc->num_states == 0 || batch < 3 ||
      seq < 4) {
    fprintf(stderr, "needs a --stateful model with output=sequence, "
                    "BATCH >= 3, SEQ >= 4\n");
    return 2;
  }
  hybrid_model *m = NULL, *other = NULL;
  if (hybrid_model_create_from_file(desc, argv[1], &m) != HYBRID_OK ||
      hybrid_model_create_from_file(desc, argv[1], &other) != HYBRID_OK) {
    fprintf(stderr, "create: %s\n", hybrid_last_error());
    return 1;
  }
  int64_t e = desc->embed_dim, h = desc->hidden_size;
  size_t in_len = (size_t)(batch * seq * e), out_len = (size_t)(batch * seq * h);
  float *input = malloc(in_len * sizeof(float));
  FILE *f = fopen(argv[2], "rb");
  if (!f || fread(input, sizeof(float), in_len, f) != in_len) {
    fprintf(stderr, "cannot read %zu floats from %s\n", in_len, argv[2]);
    return 1;
  }
  fclose(f);

  /* The forward pass over the whole input: the expected outputs. */
  float *full = malloc(out_len * sizeof(float));
  if (hybrid_model_forward(m, input, batch, seq, full, out_len) != HYBRID_OK) {
    fprintf(stderr, "forward: %s\n", hybrid_last_error());
    return 1;
  }
  size_t bytes = 0;
  hybrid_state_size(m, 1, &bytes);
  printf("state     %zu bytes per sequence, %d tensors\n", bytes,
         desc->num_states);

  /* Prefill the first half, then step through the rest. */
  int64_t half = seq / 2;
  float *chunk = malloc(in_len * sizeof(float));
  float *out = malloc(out_len * sizeof(float));
  float *token = malloc((size_t)(batch * e) * sizeof(float));
  float *step_out = malloc((size_t)(batch * h) * sizeof(float));
  float *expect = malloc((size_t)(batch * h) * sizeof(float));
  for (int64_t b = 0; b < batch; ++b)
    memcpy(chunk + b * half * e, input + b * seq * e,
           (size_t)(half * e) * sizeof(float));
  hybrid_state *s = NULL;
  if (hybrid_state_create(m, batch, &s) != HYBRID_OK ||
      hybrid_prefill(m, s, chunk, batch, half, NULL, out,
                     (size_t)(batch * half * h)) != HYBRID_OK) {
    fprintf(stderr, "prefill: %s\n", hybrid_last_error());
    return 1;
  }
  double err = 0.0;
  for (int64_t b = 0; b < batch; ++b)
    err = fmax(err, rel_diff(out + b * half * h, full + b * seq * h,
                             (size_t)(half * h)));
  hybrid_state *snapshot = NULL;
  hybrid_state_create(m, batch, &snapshot);
  hybrid_state_copy(s, snapshot);
  float *first_run = malloc(out_len * sizeof(float));
  for (int pass = 0; pass < 2; ++pass) {
    double step_err = 0.0;
    int identical = 1;
    for (int64_t p = half; p < seq; ++p) {
      for (int64_t b = 0; b < batch; ++b) {
        memcpy(token + b * e, input + (b * seq + p) * e, (size_t)e * sizeof(float));
        memcpy(expect + b * h, full + (b * seq + p) * h, (size_t)h * sizeof(float));
      }
      if (hybrid_step(m, s, token, batch, NULL, step_out,
                      (size_t)(batch * h)) != HYBRID_OK) {
        fprintf(stderr, "step: %s\n", hybrid_last_error());
        return 1;
      }
      step_err = fmax(step_err, rel_diff(step_out, expect, (size_t)(batch * h)));
      if (pass == 0)
        memcpy(first_run + p * batch * h, step_out,
               (size_t)(batch * h) * sizeof(float));
      else
        identical &= memcmp(first_run + p * batch * h, step_out,
                            (size_t)(batch * h) * sizeof(float)) == 0;
    }
    if (pass == 0) {
      err = fmax(err, step_err);
      check(err < 1e-4, "prefill of half + one step per position == forward");
      printf("          max relative difference %.2e\n", err);
      /* Restore the snapshot and run the same steps again. */
      hybrid_state_copy(snapshot, s);
    } else {
      check(identical, "restore + the same steps == bit-identical outputs");
    }
  }
  int64_t positions[64];
  hybrid_state_positions(s, positions, 64);
  check(positions[0] == seq, "positions after the steps == SEQ");

  /* A batch of different lengths: seq, 1, half, then seq - 1. */
  int64_t *lengths = malloc((size_t)batch * sizeof(int64_t));
  for (int64_t b = 0; b < batch; ++b)
    lengths[b] = b == 0 ? seq : b == 1 ? 1 : b == 2 ? half : seq - 1;
  hybrid_state *v = NULL;
  hybrid_state_create(m, batch, &v);
  /* The chunk holds all seq positions; lengths say which count. */
  if (hybrid_prefill(m, v, input, batch, seq, lengths, out, out_len) !=
      HYBRID_OK) {
    fprintf(stderr, "prefill with lengths: %s\n", hybrid_last_error());
    return 1;
  }
  double len_err = 0.0;
  int zeros = 1;
  for (int64_t b = 0; b < batch; ++b) {
    len_err = fmax(len_err, rel_diff(out + b * seq * h, full + b * seq * h,
                                     (size_t)(lengths[b] * h)));
    for (int64_t i = lengths[b] * h; i < seq * h; ++i)
      zeros &= out[b * seq * h + i] == 0.0f;
  }
  check(len_err < 1e-4, "different lengths in one prefill == forward per sequence");
  check(zeros, "positions past each length are zero");
  /* The next step of each sequence is its own next position (the full
   * sequence has none left: it gets position seq - 1 again, inactive). */
  int64_t *active = malloc((size_t)batch * sizeof(int64_t));
  for (int64_t b = 0; b < batch; ++b) {
    active[b] = lengths[b] < seq;
    int64_t p = lengths[b] < seq ? lengths[b] : seq - 1;
    memcpy(token + b * e, input + (b * seq + p) * e, (size_t)e * sizeof(float));
    memcpy(expect + b * h, full + (b * seq + p) * h, (size_t)h * sizeof(float));
  }
  hybrid_step(m, v, token, batch, active, step_out, (size_t)(batch * h));
  double next_err = 0.0;
  int inactive_zero = 1;
  for (int64_t b = 0; b < batch; ++b) {
    if (active[b])
      next_err = fmax(next_err, rel_diff(step_out + b * h, expect + b * h,
                                         (size_t)h));
    else
      for (int64_t k = 0; k < h; ++k)
        inactive_zero &= step_out[b * h + k] == 0.0f;
  }
  check(next_err < 1e-4, "the next step continues each sequence from its length");
  check(inactive_zero, "an inactive sequence's step output is zero");
  hybrid_state_positions(v, positions, 64);
  check(positions[0] == seq && positions[1] == 2 && positions[2] == half + 1,
        "positions follow the lengths");

  /* Bad calls: a status, a message, and the state unchanged. */
  hybrid_state_copy(v, snapshot);
  expect_error(hybrid_prefill(m, v, input, batch - 1, seq, NULL, out, out_len),
               HYBRID_BAD_STATE, "wrong batch");
  expect_error(hybrid_step(other, v, token, batch, NULL, step_out,
                           (size_t)(batch * h)),
               HYBRID_BAD_STATE, "another model's state");
  lengths[1] = seq + 1;
  expect_error(hybrid_prefill(m, v, input, batch, seq, lengths, out, out_len),
               HYBRID_INVALID_ARGUMENT, "length beyond the chunk");
  active[0] = 2;
  expect_error(hybrid_step(m, v, token, batch, active, step_out,
                           (size_t)(batch * h)),
               HYBRID_INVALID_ARGUMENT, "active flag 2");
  expect_error(hybrid_step(m, v, token, batch, NULL, step_out, 1),
               HYBRID_INVALID_ARGUMENT, "small output");
  hybrid_state *small = NULL;
  hybrid_state_create(m, 1, &small);
  expect_error(hybrid_state_copy(small, v), HYBRID_BAD_STATE,
               "copy across batch sizes");
  expect_error(hybrid_state_create(m, 0, &small), HYBRID_INVALID_ARGUMENT,
               "batch 0");
  /* Unchanged: the same step from v and from its copy gives the same. */
  for (int64_t b = 0; b < batch; ++b)
    active[b] = 1;
  float *again = malloc((size_t)(batch * h) * sizeof(float));
  hybrid_step(m, v, token, batch, active, step_out, (size_t)(batch * h));
  hybrid_step(m, snapshot, token, batch, active, again, (size_t)(batch * h));
  check(memcmp(step_out, again, (size_t)(batch * h) * sizeof(float)) == 0,
        "failed calls left the state unchanged");
  hybrid_state_reset(v);
  hybrid_state_positions(v, positions, 64);
  check(positions[0] == 0, "reset goes back to the start");

  hybrid_state_destroy(s);
  hybrid_state_destroy(v);
  hybrid_state_destroy(snapshot);
  hybrid_state_destroy(small);
  hybrid_model_destroy(m);
  hybrid_model_destroy(other);
  printf("%s\n", failures ? "FAILED" : "PASSED");
  return failures ? 1 : 0;
}
