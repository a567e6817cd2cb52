func.func @f(%u: tensor<1x5x8xf32>, %A: tensor<8x4xf32>, %B: tensor<1x5x4xf32>, %D: tensor<8xf32>, %h0: tensor<1x8x4xf32>, %l: tensor<1xi64>, %y_out: tensor<1x5x8xf32>) -> (tensor<1x5x8xf32>, tensor<1x8x4xf32>) {
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x5x8xf32>) delta(%u : tensor<1x5x8xf32>) A(%A : tensor<8x4xf32>) B(%B : tensor<1x5x4xf32>) C(%B : tensor<1x5x4xf32>) D(%D : tensor<8xf32>) z(%u : tensor<1x5x8xf32>) delta_bias(%D : tensor<8xf32>) init(%h0 : tensor<1x8x4xf32>) lengths(%l : tensor<1xi64>) delta_softplus outs(%y_out : tensor<1x5x8xf32>) -> tensor<1x5x8xf32>, tensor<1x8x4xf32>
  return %y, %h : tensor<1x5x8xf32>, tensor<1x8x4xf32>
}
