func.func @f(%r: tensor<1x?x2x4xf32>, %u: tensor<2x4xf32>, %s_init: tensor<1x2x4x4xf32>, %o_out: tensor<1x?x2x4xf32>, %o7_out: tensor<1x?x2x4xf32>) -> tensor<1x?x2x4xf32> {
  %o, %s = hybrid.wkv rwkv6 r(%r : tensor<1x?x2x4xf32>) k(%r : tensor<1x?x2x4xf32>) v(%r : tensor<1x?x2x4xf32>) log_decay(%r : tensor<1x?x2x4xf32>) bonus(%u : tensor<2x4xf32>) init(%s_init : tensor<1x2x4x4xf32>) scale 0.5 outs(%o_out : tensor<1x?x2x4xf32>) -> tensor<1x?x2x4xf32>, tensor<1x2x4x4xf32>
  %o7, %s7 = hybrid.wkv rwkv7 r(%r : tensor<1x?x2x4xf32>) k(%r : tensor<1x?x2x4xf32>) v(%o : tensor<1x?x2x4xf32>) log_decay(%r : tensor<1x?x2x4xf32>) a(%r : tensor<1x?x2x4xf32>) b(%r : tensor<1x?x2x4xf32>) init(%s : tensor<1x2x4x4xf32>) outs(%o7_out : tensor<1x?x2x4xf32>) -> tensor<1x?x2x4xf32>, tensor<1x2x4x4xf32>
  return %o7 : tensor<1x?x2x4xf32>
}
