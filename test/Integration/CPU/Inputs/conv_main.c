/* Calls the compiled conv kernel through its C entry point and checks it. */
#include "kernels.h"

#include <math.h>
#include <stdio.h>

int main(void) {
  float x[15], w[6] = {0.5f, -1.0f, 2.0f, 1.0f, 1.0f, 1.0f}, y[15];
  for (int i = 0; i < 15; ++i)
    x[i] = (float)(i + 1);
  hybrid_memref_3d X = {x, x, 0, {1, 5, 3}, {15, 3, 1}};
  hybrid_memref_2d W = {w, w, 0, {2, 3}, {3, 1}};
  hybrid_memref_3d Y = {y, y, 0, {1, 5, 3}, {15, 3, 1}};
  kernels_conv(&X, &W, &Y);
  for (int t = 0; t < 5; ++t)
    for (int c = 0; c < 3; ++c) {
      float prev = t > 0 ? x[(t - 1) * 3 + c] : 0.0f;
      float want = w[c] * prev + w[3 + c] * x[t * 3 + c];
      if (fabsf(y[t * 3 + c] - want) > 1e-5f) {
        printf("mismatch at t=%d c=%d: %f vs %f\n", t, c, y[t * 3 + c], want);
        return 1;
      }
    }
  printf("conv ok\n");
  return 0;
}
