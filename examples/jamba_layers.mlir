// Two layers of a Jamba-style hybrid in the hybrid dialect, written by hand
// the way the frontend will emit them: a canonical Mamba-1 layer (pre-norm,
// in_proj, causal conv + SiLU, x_proj, dt_proj, selective scan, out_proj,
// residual) followed by a sliding-window attention layer with grouped K/V
// heads (pre-norm, qkv projection, attention, residual). Projections are
// linalg.matmul over the flattened [batch * seq, features] activations.
//
// Sizes: batch 1, seq 16, hidden 32, d_inner 64, d_state 8, dt rank 2,
// conv 4; attention 4 query heads and 2 KV heads of 8.
//
//   hybrid-opt examples/jamba_layers.mlir

func.func @jamba_layers(
    %x: tensor<1x16x32xf32>,
    // layers.0 (mamba)
    %norm0_w: tensor<32xf32>, %in_proj: tensor<32x128xf32>,
    %conv_w: tensor<4x64xf32>, %conv_b: tensor<64xf32>,
    %x_proj: tensor<64x18xf32>, %dt_proj: tensor<2x64xf32>, %dt_bias: tensor<64xf32>,
    %A: tensor<64x8xf32>, %D: tensor<64xf32>, %out_proj: tensor<64x32xf32>,
    // layers.1 (attention)
    %norm1_w: tensor<32xf32>, %qkv_proj: tensor<32x64xf32>, %o_proj: tensor<32x32xf32>)
    -> (tensor<1x16x32xf32>, tensor<1x64x8xf32>, tensor<1x3x64xf32>) {
  %zero = arith.constant 0.0 : f32

  // ---- layers.0: r = x + out_proj(mamba(rms_norm(x))) ----
  // The hybrid ops are in destination style: results go to `outs`, and a
  // recurrence's final state over its initial state (`init`, zeros here).
  %e3n = tensor.empty() : tensor<1x16x32xf32>
  %n0 = hybrid.rms_norm %x weight(%norm0_w : tensor<32xf32>) outs(%e3n : tensor<1x16x32xf32>) : tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  %n0f = tensor.collapse_shape %n0 [[0, 1], [2]] : tensor<1x16x32xf32> into tensor<16x32xf32>
  %e128 = tensor.empty() : tensor<16x128xf32>
  %f128 = linalg.fill ins(%zero : f32) outs(%e128 : tensor<16x128xf32>) -> tensor<16x128xf32>
  %xz = linalg.matmul ins(%n0f, %in_proj : tensor<16x32xf32>, tensor<32x128xf32>) outs(%f128 : tensor<16x128xf32>) -> tensor<16x128xf32>
  %xin = tensor.extract_slice %xz[0, 0] [16, 64] [1, 1] : tensor<16x128xf32> to tensor<16x64xf32>
  %zf = tensor.extract_slice %xz[0, 64] [16, 64] [1, 1] : tensor<16x128xf32> to tensor<16x64xf32>
  %xin3 = tensor.expand_shape %xin [[0, 1], [2]] output_shape [1, 16, 64] : tensor<16x64xf32> into tensor<1x16x64xf32>
  %z = tensor.expand_shape %zf [[0, 1], [2]] output_shape [1, 16, 64] : tensor<16x64xf32> into tensor<1x16x64xf32>
  %et = tensor.empty() : tensor<1x3x64xf32>
  %tail0 = linalg.fill ins(%zero : f32) outs(%et : tensor<1x3x64xf32>) -> tensor<1x3x64xf32>
  %e64s = tensor.empty() : tensor<1x16x64xf32>
  %u, %conv_tail = hybrid.causal_conv1d x(%xin3 : tensor<1x16x64xf32>) weight(%conv_w : tensor<4x64xf32>)
      bias(%conv_b : tensor<64xf32>) init(%tail0 : tensor<1x3x64xf32>) activation silu
      outs(%e64s : tensor<1x16x64xf32>) -> tensor<1x16x64xf32>, tensor<1x3x64xf32>
  %uf = tensor.collapse_shape %u [[0, 1], [2]] : tensor<1x16x64xf32> into tensor<16x64xf32>
  %e18 = tensor.empty() : tensor<16x18xf32>
  %f18 = linalg.fill ins(%zero : f32) outs(%e18 : tensor<16x18xf32>) -> tensor<16x18xf32>
  %dbc = linalg.matmul ins(%uf, %x_proj : tensor<16x64xf32>, tensor<64x18xf32>) outs(%f18 : tensor<16x18xf32>) -> tensor<16x18xf32>
  %dtr = tensor.extract_slice %dbc[0, 0] [16, 2] [1, 1] : tensor<16x18xf32> to tensor<16x2xf32>
  %Bf = tensor.extract_slice %dbc[0, 2] [16, 8] [1, 1] : tensor<16x18xf32> to tensor<16x8xf32>
  %Cf = tensor.extract_slice %dbc[0, 10] [16, 8] [1, 1] : tensor<16x18xf32> to tensor<16x8xf32>
  %e64 = tensor.empty() : tensor<16x64xf32>
  %f64 = linalg.fill ins(%zero : f32) outs(%e64 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %dtf = linalg.matmul ins(%dtr, %dt_proj : tensor<16x2xf32>, tensor<2x64xf32>) outs(%f64 : tensor<16x64xf32>) -> tensor<16x64xf32>
  %dt = tensor.expand_shape %dtf [[0, 1], [2]] output_shape [1, 16, 64] : tensor<16x64xf32> into tensor<1x16x64xf32>
  %B = tensor.expand_shape %Bf [[0, 1], [2, 3]] output_shape [1, 16, 1, 8] : tensor<16x8xf32> into tensor<1x16x1x8xf32>
  %C = tensor.expand_shape %Cf [[0, 1], [2, 3]] output_shape [1, 16, 1, 8] : tensor<16x8xf32> into tensor<1x16x1x8xf32>
  %eh = tensor.empty() : tensor<1x64x8xf32>
  %h0 = linalg.fill ins(%zero : f32) outs(%eh : tensor<1x64x8xf32>) -> tensor<1x64x8xf32>
  %y, %ssm_state = hybrid.ssm_scan u(%u : tensor<1x16x64xf32>) delta(%dt : tensor<1x16x64xf32>)
      A(%A : tensor<64x8xf32>) B(%B : tensor<1x16x1x8xf32>) C(%C : tensor<1x16x1x8xf32>)
      D(%D : tensor<64xf32>) z(%z : tensor<1x16x64xf32>) delta_bias(%dt_bias : tensor<64xf32>)
      init(%h0 : tensor<1x64x8xf32>) delta_softplus outs(%e64s : tensor<1x16x64xf32>)
      -> tensor<1x16x64xf32>, tensor<1x64x8xf32>
  %yf = tensor.collapse_shape %y [[0, 1], [2]] : tensor<1x16x64xf32> into tensor<16x64xf32>
  %e32 = tensor.empty() : tensor<16x32xf32>
  %f32 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<16x32xf32>) -> tensor<16x32xf32>
  %mo = linalg.matmul ins(%yf, %out_proj : tensor<16x64xf32>, tensor<64x32xf32>) outs(%f32 : tensor<16x32xf32>) -> tensor<16x32xf32>
  %mo3 = tensor.expand_shape %mo [[0, 1], [2]] output_shape [1, 16, 32] : tensor<16x32xf32> into tensor<1x16x32xf32>
  %e3 = tensor.empty() : tensor<1x16x32xf32>
  %r0 = linalg.add ins(%x, %mo3 : tensor<1x16x32xf32>, tensor<1x16x32xf32>) outs(%e3 : tensor<1x16x32xf32>) -> tensor<1x16x32xf32>

  // ---- layers.1: r = r + o_proj(attention(rms_norm(r))) ----
  %n1 = hybrid.rms_norm %r0 weight(%norm1_w : tensor<32xf32>) outs(%e3n : tensor<1x16x32xf32>) : tensor<1x16x32xf32> -> tensor<1x16x32xf32>
  %n1f = tensor.collapse_shape %n1 [[0, 1], [2]] : tensor<1x16x32xf32> into tensor<16x32xf32>
  %e64b = tensor.empty() : tensor<16x64xf32>
  %f64b = linalg.fill ins(%zero : f32) outs(%e64b : tensor<16x64xf32>) -> tensor<16x64xf32>
  %qkv = linalg.matmul ins(%n1f, %qkv_proj : tensor<16x32xf32>, tensor<32x64xf32>) outs(%f64b : tensor<16x64xf32>) -> tensor<16x64xf32>
  %qf = tensor.extract_slice %qkv[0, 0] [16, 32] [1, 1] : tensor<16x64xf32> to tensor<16x32xf32>
  %kf = tensor.extract_slice %qkv[0, 32] [16, 16] [1, 1] : tensor<16x64xf32> to tensor<16x16xf32>
  %vf = tensor.extract_slice %qkv[0, 48] [16, 16] [1, 1] : tensor<16x64xf32> to tensor<16x16xf32>
  %q = tensor.expand_shape %qf [[0, 1], [2, 3]] output_shape [1, 16, 4, 8] : tensor<16x32xf32> into tensor<1x16x4x8xf32>
  %k = tensor.expand_shape %kf [[0, 1], [2, 3]] output_shape [1, 16, 2, 8] : tensor<16x16xf32> into tensor<1x16x2x8xf32>
  %v = tensor.expand_shape %vf [[0, 1], [2, 3]] output_shape [1, 16, 2, 8] : tensor<16x16xf32> into tensor<1x16x2x8xf32>
  %ea = tensor.empty() : tensor<1x16x4x8xf32>
  %att = hybrid.windowed_attention q(%q : tensor<1x16x4x8xf32>) k(%k : tensor<1x16x2x8xf32>)
      v(%v : tensor<1x16x2x8xf32>) window 8 qk_norm outs(%ea : tensor<1x16x4x8xf32>)
      -> tensor<1x16x4x8xf32>
  %attf = tensor.collapse_shape %att [[0, 1], [2, 3]] : tensor<1x16x4x8xf32> into tensor<16x32xf32>
  %e32b = tensor.empty() : tensor<16x32xf32>
  %f32b = linalg.fill ins(%zero : f32) outs(%e32b : tensor<16x32xf32>) -> tensor<16x32xf32>
  %ao = linalg.matmul ins(%attf, %o_proj : tensor<16x32xf32>, tensor<32x32xf32>) outs(%f32b : tensor<16x32xf32>) -> tensor<16x32xf32>
  %ao3 = tensor.expand_shape %ao [[0, 1], [2]] output_shape [1, 16, 32] : tensor<16x32xf32> into tensor<1x16x32xf32>
  %e3b = tensor.empty() : tensor<1x16x32xf32>
  %r1 = linalg.add ins(%r0, %ao3 : tensor<1x16x32xf32>, tensor<1x16x32xf32>) outs(%e3b : tensor<1x16x32xf32>) -> tensor<1x16x32xf32>

  return %r1, %ssm_state, %conv_tail : tensor<1x16x32xf32>, tensor<1x64x8xf32>, tensor<1x3x64xf32>
}
