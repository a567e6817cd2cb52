func.func @f(%q: tensor<1x7x4x8xf32>, %k: tensor<1x9x2x8xf32>, %m: tensor<1x9xi1>, %w: tensor<8xf32>, %o_out: tensor<1x7x4x8xf32>, %n_out: tensor<1x7x4x8xf32>, %l_out: tensor<1x7x4x8xf32>) -> tensor<1x7x4x8xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<1x7x4x8xf32>) k(%k : tensor<1x9x2x8xf32>) v(%k : tensor<1x9x2x8xf32>) key_mask(%m : tensor<1x9xi1>) window 3 qk_norm outs(%o_out : tensor<1x7x4x8xf32>) -> tensor<1x7x4x8xf32>
  %n = hybrid.rms_norm %o weight(%w : tensor<8xf32>) epsilon 1.0e-6 outs(%n_out : tensor<1x7x4x8xf32>) : tensor<1x7x4x8xf32> -> tensor<1x7x4x8xf32>
  %l = hybrid.layer_norm %n weight(%w : tensor<8xf32>) bias(%w : tensor<8xf32>) outs(%l_out : tensor<1x7x4x8xf32>) : tensor<1x7x4x8xf32> -> tensor<1x7x4x8xf32>
  return %l : tensor<1x7x4x8xf32>
}
