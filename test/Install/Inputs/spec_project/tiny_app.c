/* Prints the compiled model's widths: they follow the spec file. */
#include "tiny.h"

#include <stdio.h>

int main(void) {
  printf("embed %lld hidden %lld weights %d\n",
         (long long)tiny_model.embed_dim, (long long)tiny_model.hidden_size,
         tiny_model.num_weights);
  return 0;
}
