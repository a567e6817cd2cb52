func.func @f(%x: tensor<1x6x8xf32>, %lam: tensor<8xf32>, %reset: tensor<1x6xi1>, %xg: tensor<1x6x24xf32>, %wh: tensor<8x24xf32>, %w: tensor<3x8xf32>) -> (tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>) {
  %h, %s = hybrid.rg_lru x(%x : tensor<1x6x8xf32>) gate_x(%x : tensor<1x6x8xf32>) gate_a(%x : tensor<1x6x8xf32>) a_param(%lam : tensor<8xf32>) reset(%reset : tensor<1x6xi1>) c 8.0 -> tensor<1x6x8xf32>, tensor<1x8xf32>
  %g, %gs = hybrid.gru input_gates(%xg : tensor<1x6x24xf32>) hidden_weight(%wh : tensor<8x24xf32>) init(%s : tensor<1x8xf32>) -> tensor<1x6x8xf32>, tensor<1x8xf32>
  %y, %t = hybrid.causal_conv1d x(%g : tensor<1x6x8xf32>) weight(%w : tensor<3x8xf32>) bias(%lam : tensor<8xf32>) activation silu -> tensor<1x6x8xf32>, tensor<1x2x8xf32>
  return %h, %g, %y : tensor<1x6x8xf32>, tensor<1x6x8xf32>, tensor<1x6x8xf32>
}
