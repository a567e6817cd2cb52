/* Two different models, each compiled by hybrid-compile, in one program
 * that also defines its own `forward` and `step`: every symbol a model
 * exports carries its name, so nothing collides and each model runs its own
 * code. Prints each model's checksum (compared with the JIT's by the test)
 * and checks that the application's functions were not called by the
 * models. */
#include "gru.h"
#include "jamba.h"

#include <stdio.h>
#include <stdlib.h>

/* The application's own functions, named like a model's entry points. */
static int forward_calls = 0;
void forward(void) { ++forward_calls; }
int step(int x) { return x + 1; }

static int run(const hybrid_model_desc *desc, const char *weights,
               const char *input_path, long long batch, long long seq) {
  hybrid_model *m = NULL;
  if (hybrid_model_create_from_file(desc, weights, &m) != HYBRID_OK) {
    fprintf(stderr, "%s: %s\n", desc->name, hybrid_last_error());
    return 1;
  }
  size_t in_len = (size_t)(batch * seq * desc->embed_dim);
  float *input = malloc(in_len * sizeof(float));
  FILE *f = fopen(input_path, "rb");
  if (!f || fread(input, sizeof(float), in_len, f) != in_len) {
    fprintf(stderr, "cannot read %s\n", input_path);
    return 1;
  }
  fclose(f);
  size_t out_len = (size_t)(batch * desc->hidden_size);
  float *output = malloc(out_len * sizeof(float));
  if (hybrid_model_forward(m, input, batch, seq, output, out_len) !=
      HYBRID_OK) {
    fprintf(stderr, "%s: %s\n", desc->name, hybrid_last_error());
    return 1;
  }
  double sum = 0.0;
  for (size_t i = 0; i < out_len; ++i)
    sum += output[i];
  printf("%s checksum  sum %.6e\n", desc->name, sum);
  hybrid_model_destroy(m);
  free(input);
  free(output);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s JAMBA_W JAMBA_IN GRU_W GRU_IN BATCH SEQ\n",
            argv[0]);
    return 2;
  }
  long long batch = atoll(argv[5]), seq = atoll(argv[6]);
  if (run(&jamba_model, argv[1], argv[2], batch, seq) ||
      run(&gru_model, argv[3], argv[4], batch, seq))
    return 1;
  forward();
  if (forward_calls != 1 || step(1) != 2) {
    printf("the application's forward was called %d times\n", forward_calls);
    return 1;
  }
  printf("application forward called once\n");
  return 0;
}
