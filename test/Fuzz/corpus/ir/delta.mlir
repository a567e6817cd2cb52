func.func @f(%q: tensor<2x3x2x4xf32>, %v: tensor<2x3x4x5xf32>, %beta: tensor<2x3x4xf32>, %a: tensor<4xf32>, %s_init: tensor<2x4x5x4xf32>, %o_out: tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32> {
  %o, %s = hybrid.delta_rule q(%q : tensor<2x3x2x4xf32>) k(%q : tensor<2x3x2x4xf32>) v(%v : tensor<2x3x4x5xf32>) beta(%beta : tensor<2x3x4xf32>) log_decay(%beta : tensor<2x3x4xf32>) decay_a_log(%a : tensor<4xf32>) decay_bias(%a : tensor<4xf32>) init(%s_init : tensor<2x4x5x4xf32>) beta_sigmoid outs(%o_out : tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32>, tensor<2x4x5x4xf32>
  return %o : tensor<2x3x4x5xf32>
}
