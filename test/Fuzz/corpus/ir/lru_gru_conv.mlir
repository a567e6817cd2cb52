func.func @f(%x: tensor<1x6x8xf32>, %lam: tensor<8xf32>, %reset: tensor<1x6xi1>, %xg: tensor<1x6x24xf32>, %wh: tensor<8x24xf32>, %w: tensor<3x8xf32>, %s_init: tensor<1x8xf32>, %h_out: tensor<1x6x8xf32>, %g_out: tensor<1x6x8xf32>, %t_init: tensor<1x2x8xf32>, %y_out: tensor<1x6x8xf32>) -> (tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>) {
  %h, %s = hybrid.rg_lru x(%x : tensor<1x6x8xf32>) gate_x(%x : tensor<1x6x8xf32>) gate_a(%x : tensor<1x6x8xf32>) a_param(%lam : tensor<8xf32>) reset(%reset : tensor<1x6xi1>) init(%s_init : tensor<1x8xf32>) c 8.0 outs(%h_out : tensor<1x6x8xf32>) -> tensor<1x6x8xf32>, tensor<1x8xf32>
  %g, %gs = hybrid.gru input_gates(%xg : tensor<1x6x24xf32>) hidden_weight(%wh : tensor<8x24xf32>) init(%s : tensor<1x8xf32>) outs(%g_out : tensor<1x6x8xf32>) -> tensor<1x6x8xf32>, tensor<1x8xf32>
  %y, %t = hybrid.causal_conv1d x(%g : tensor<1x6x8xf32>) weight(%w : tensor<3x8xf32>) bias(%lam : tensor<8xf32>) init(%t_init : tensor<1x2x8xf32>) activation silu outs(%y_out : tensor<1x6x8xf32>) -> tensor<1x6x8xf32>, tensor<1x2x8xf32>
  return %h, %g, %y : tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>
}
