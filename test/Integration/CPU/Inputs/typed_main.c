/* Calls the typed kernels through their generated header (with the conv
 * kernels' header in the same translation unit: the descriptor structs they
 * share are defined once) and checks every output. */
#include "kernels.h"
#include "typed.h"

#include <stdio.h>

int main(void) {
  enum { N = 5 };
  float x[N * 4], y[N * 4];
  uint8_t mask[N] = {1, 0, 1, 1, 0};
  for (int i = 0; i < N * 4; ++i)
    x[i] = (float)i - 7.5f;
  hybrid_memref_2d X = {x, x, 0, {N, 4}, {4, 1}};
  hybrid_memref_1d_i1 M = {mask, mask, 0, {N}, {1}};
  hybrid_memref_2d Y = {y, y, 0, {N, 4}, {4, 1}};
  typed_masked_scale(&X, &M, 0.5f, &Y);
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < 4; ++j) {
      float want = mask[i] ? 0.5f * x[i * 4 + j] : 0.0f;
      if (y[i * 4 + j] != want) {
        printf("masked_scale mismatch at %d,%d: %g vs %g\n", i, j,
               y[i * 4 + j], want);
        return 1;
      }
    }

  int64_t lengths[N] = {3, 9, 0, 12, 7};
  int64_t end[N];
  uint8_t over[N];
  hybrid_memref_1d_i64 L = {lengths, lengths, 0, {N}, {1}};
  hybrid_memref_1d_i64 E = {end, end, 0, {N}, {1}};
  hybrid_memref_1d_i1 O = {over, over, 0, {N}, {1}};
  typed_positions(&L, 4, 11, &E, &O);
  for (int i = 0; i < N; ++i) {
    int64_t want = lengths[i] + 4;
    if (end[i] != want || over[i] != (want > 11)) {
      printf("positions mismatch at %d: %lld %d\n", i, (long long)end[i],
             (int)over[i]);
      return 1;
    }
  }
  printf("typed ok\n");
  return 0;
}
