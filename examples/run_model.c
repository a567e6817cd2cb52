/* run_model.c: an application that links a model compiled by hybrid-compile.
 *
 *   hybrid-compile --preset=jamba --set embed_dim=256 --model-name=model \
 *       --target=cpu --emit=obj -o model.o
 *   hybrid-compile --preset=jamba --set embed_dim=256 --model-name=model \
 *       --emit=header -o model.h
 *   cc -I<hybrid>/include -I. run_model.c model.o -lhybrid_runtime -lomp -lm
 *   ./a.out weights.safetensors input.f32 BATCH SEQ
 *
 * input.f32 holds BATCH * SEQ * embed_dim little-endian floats. The program
 * prints the output shape and checksum, then checks that bad calls come back
 * as status codes with messages. It needs only the generated header, the
 * model object, the Hybrid runtime and libomp.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int expect_error(hybrid_status got, hybrid_status want,
                        const char *what) {
  if (got != want) {
    fprintf(stderr, "%s: expected status %d, got %d\n", what, want, got);
    return 1;
  }
  printf("error ok  %s: %s\n", what, hybrid_last_error());
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s WEIGHTS.safetensors INPUT.f32 BATCH SEQ\n",
            argv[0]);
    return 2;
  }
  long long batch = atoll(argv[3]), seq = atoll(argv[4]);
  const hybrid_model_desc *desc = &model_model;

  hybrid_model *m = NULL;
  if (hybrid_model_create_from_file(desc, argv[1], &m) != HYBRID_OK) {
    fprintf(stderr, "create: %s\n", hybrid_last_error());
    return 1;
  }
  size_t in_len = (size_t)(batch * seq * desc->embed_dim);
  float *input = malloc(in_len * sizeof(float));
  FILE *f = fopen(argv[2], "rb");
  if (!f || fread(input, sizeof(float), in_len, f) != in_len) {
    fprintf(stderr, "cannot read %zu floats from %s\n", in_len, argv[2]);
    return 1;
  }
  fclose(f);

  int64_t shape[3];
  int32_t rank;
  if (hybrid_model_output_shape(m, batch, seq, shape, &rank) != HYBRID_OK) {
    fprintf(stderr, "shape: %s\n", hybrid_last_error());
    return 1;
  }
  size_t out_len = 1;
  for (int i = 0; i < rank; ++i)
    out_len *= (size_t)shape[i];
  float *output = malloc(out_len * sizeof(float));
  if (hybrid_model_forward(m, input, batch, seq, output, out_len) !=
      HYBRID_OK) {
    fprintf(stderr, "forward: %s\n", hybrid_last_error());
    return 1;
  }
  double sum = 0.0;
  for (size_t i = 0; i < out_len; ++i)
    sum += output[i];
  printf("model     %s\n", desc->name);
  printf("output    [%lld, %lld]\n", (long long)shape[0], (long long)shape[1]);
  printf("checksum  sum %.6e\n", sum);

  /* Bad calls: a status and a message, nothing else. */
  int bad = 0;
  bad |= expect_error(hybrid_model_forward(m, NULL, batch, seq, output, out_len),
                      HYBRID_INVALID_ARGUMENT, "null input");
  bad |= expect_error(hybrid_model_forward(m, input, 0, seq, output, out_len),
                      HYBRID_INVALID_ARGUMENT, "batch 0");
  bad |= expect_error(hybrid_model_forward(m, input, batch, seq, output, 1),
                      HYBRID_INVALID_ARGUMENT, "small output");
  hybrid_model *other = NULL;
  bad |= expect_error(
      hybrid_model_create_from_file(desc, "/nonexistent.safetensors", &other),
      HYBRID_IO_ERROR, "missing file");
  bad |= expect_error(hybrid_model_create_from_buffers(desc, NULL, 3, &other),
                      HYBRID_INVALID_ARGUMENT, "wrong buffer count");
  hybrid_state *state = NULL;
  bad |= expect_error(hybrid_state_create(m, 1, &state), HYBRID_BAD_STATE,
                      "not stateful");
  hybrid_model_destroy(m);
  free(input);
  free(output);
  return bad;
}
