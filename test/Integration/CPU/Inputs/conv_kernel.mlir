// A depthwise causal conv of width 2 over [1, 5, 3].
func.func @conv(%x: tensor<1x5x3xf32>, %w: tensor<2x3xf32>) -> tensor<1x5x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x1x3xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x1x3xf32>) -> tensor<1x1x3xf32>
  %ey = tensor.empty() : tensor<1x5x3xf32>
  %y, %s = hybrid.causal_conv1d x(%x : tensor<1x5x3xf32>) weight(%w : tensor<2x3xf32>)
      init(%s0 : tensor<1x1x3xf32>) outs(%ey : tensor<1x5x3xf32>)
      -> tensor<1x5x3xf32>, tensor<1x1x3xf32>
  return %y : tensor<1x5x3xf32>
}
