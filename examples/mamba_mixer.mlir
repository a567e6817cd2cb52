// A Mamba-1 mixer written the way a user (or an importer) writes it: linalg
// for the projections and the element-wise math, and `hybrid.ssm_scan` and
// `hybrid.causal_conv1d` with none of their fused extras. The discretisation
// softplus(dt + dt_bias), the D skip, the SiLU(z) gate and the SiLU after
// the convolution are plain linalg.generic ops.
//
//   hybrid-opt examples/mamba_mixer.mlir --hybrid-fuse
//       folds them into the two hybrid ops;
//   hybrid-opt examples/mamba_mixer.mlir --hybrid-fuse --hybrid-tile
//       then tiles the scan and the conv into scf.forall over
//       (batch, channel tiles), each tile the same op on slices;
//   hybrid-opt examples/mamba_mixer.mlir --hybrid-cpu-pipeline
//       compiles it (fuse -> tile -> lower -> LLVM).
//
// Sizes: batch 2, seq 16, hidden 32, d_inner 64, d_state 8, dt rank 2,
// conv 4.

#id3 = affine_map<(b, t, c) -> (b, t, c)>
#ch3 = affine_map<(b, t, c) -> (c)>

func.func @mamba_mixer(%x: tensor<2x16x32xf32>, %in_proj: tensor<32x128xf32>,
    %conv_w: tensor<4x64xf32>, %conv_b: tensor<64xf32>,
    %x_proj: tensor<64x18xf32>, %dt_proj: tensor<2x64xf32>,
    %dt_bias: tensor<64xf32>, %A_log: tensor<64x8xf32>, %D: tensor<64xf32>,
    %out_proj: tensor<64x32xf32>)
    -> (tensor<2x16x32xf32>, tensor<2x64x8xf32>, tensor<2x3x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %xf = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x16x32xf32> into tensor<32x32xf32>

  // in_proj -> x, z
  %e128 = tensor.empty() : tensor<32x128xf32>
  %f128 = linalg.fill ins(%zero : f32) outs(%e128 : tensor<32x128xf32>) -> tensor<32x128xf32>
  %xz = linalg.matmul ins(%xf, %in_proj : tensor<32x32xf32>, tensor<32x128xf32>) outs(%f128 : tensor<32x128xf32>) -> tensor<32x128xf32>
  %xin = tensor.extract_slice %xz[0, 0] [32, 64] [1, 1] : tensor<32x128xf32> to tensor<32x64xf32>
  %zf = tensor.extract_slice %xz[0, 64] [32, 64] [1, 1] : tensor<32x128xf32> to tensor<32x64xf32>
  %xin3 = tensor.expand_shape %xin [[0, 1], [2]] output_shape [2, 16, 64] : tensor<32x64xf32> into tensor<2x16x64xf32>
  %z = tensor.expand_shape %zf [[0, 1], [2]] output_shape [2, 16, 64] : tensor<32x64xf32> into tensor<2x16x64xf32>

  // u = silu(conv(x))
  // (The hybrid ops are in destination style: results go to `outs`, a
  // recurrence's final state over its initial state, zeros here.)
  %e3 = tensor.empty() : tensor<2x16x64xf32>
  %et = tensor.empty() : tensor<2x3x64xf32>
  %tail0 = linalg.fill ins(%zero : f32) outs(%et : tensor<2x3x64xf32>) -> tensor<2x3x64xf32>
  %c, %conv_tail = hybrid.causal_conv1d x(%xin3 : tensor<2x16x64xf32>) weight(%conv_w : tensor<4x64xf32>)
      bias(%conv_b : tensor<64xf32>) init(%tail0 : tensor<2x3x64xf32>)
      outs(%e3 : tensor<2x16x64xf32>) -> tensor<2x16x64xf32>, tensor<2x3x64xf32>
  %u = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c : tensor<2x16x64xf32>) outs(%e3 : tensor<2x16x64xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    %e = math.exp %n : f32
    %d = arith.addf %e, %one : f32
    %s = arith.divf %v, %d : f32
    linalg.yield %s : f32
  } -> tensor<2x16x64xf32>

  // x_proj -> dt (low rank), B, C; dt_proj
  %uf = tensor.collapse_shape %u [[0, 1], [2]] : tensor<2x16x64xf32> into tensor<32x64xf32>
  %e18 = tensor.empty() : tensor<32x18xf32>
  %f18 = linalg.fill ins(%zero : f32) outs(%e18 : tensor<32x18xf32>) -> tensor<32x18xf32>
  %dbc = linalg.matmul ins(%uf, %x_proj : tensor<32x64xf32>, tensor<64x18xf32>) outs(%f18 : tensor<32x18xf32>) -> tensor<32x18xf32>
  %dtr = tensor.extract_slice %dbc[0, 0] [32, 2] [1, 1] : tensor<32x18xf32> to tensor<32x2xf32>
  %Bf = tensor.extract_slice %dbc[0, 2] [32, 8] [1, 1] : tensor<32x18xf32> to tensor<32x8xf32>
  %Cf = tensor.extract_slice %dbc[0, 10] [32, 8] [1, 1] : tensor<32x18xf32> to tensor<32x8xf32>
  %e64 = tensor.empty() : tensor<32x64xf32>
  %f64 = linalg.fill ins(%zero : f32) outs(%e64 : tensor<32x64xf32>) -> tensor<32x64xf32>
  %dtf = linalg.matmul ins(%dtr, %dt_proj : tensor<32x2xf32>, tensor<2x64xf32>) outs(%f64 : tensor<32x64xf32>) -> tensor<32x64xf32>
  %dt = tensor.expand_shape %dtf [[0, 1], [2]] output_shape [2, 16, 64] : tensor<32x64xf32> into tensor<2x16x64xf32>
  %B = tensor.expand_shape %Bf [[0, 1], [2, 3]] output_shape [2, 16, 1, 8] : tensor<32x8xf32> into tensor<2x16x1x8xf32>
  %C = tensor.expand_shape %Cf [[0, 1], [2, 3]] output_shape [2, 16, 1, 8] : tensor<32x8xf32> into tensor<2x16x1x8xf32>
  %eh = tensor.empty() : tensor<2x64x8xf32>
  %h0 = linalg.fill ins(%zero : f32) outs(%eh : tensor<2x64x8xf32>) -> tensor<2x64x8xf32>

  // delta = softplus(dt + dt_bias), A = -exp(A_log)
  %delta = linalg.generic {indexing_maps = [#id3, #ch3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%dt, %dt_bias : tensor<2x16x64xf32>, tensor<64xf32>) outs(%e3 : tensor<2x16x64xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %s = arith.addf %v, %bias : f32
    %e = math.exp %s : f32
    %l = math.log1p %e : f32
    linalg.yield %l : f32
  } -> tensor<2x16x64xf32>
  %eA = tensor.empty() : tensor<64x8xf32>
  %A = linalg.generic {indexing_maps = [affine_map<(c, n) -> (c, n)>, affine_map<(c, n) -> (c, n)>], iterator_types = ["parallel", "parallel"]}
      ins(%A_log : tensor<64x8xf32>) outs(%eA : tensor<64x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %e = math.exp %v : f32
    %n = arith.negf %e : f32
    linalg.yield %n : f32
  } -> tensor<64x8xf32>

  // the scan, then y + D * u and y * silu(z)
  %ys, %ssm_state = hybrid.ssm_scan u(%u : tensor<2x16x64xf32>) delta(%delta : tensor<2x16x64xf32>)
      A(%A : tensor<64x8xf32>) B(%B : tensor<2x16x1x8xf32>) C(%C : tensor<2x16x1x8xf32>)
      init(%h0 : tensor<2x64x8xf32>) outs(%e3 : tensor<2x16x64xf32>)
      -> tensor<2x16x64xf32>, tensor<2x64x8xf32>
  %yd = linalg.generic {indexing_maps = [#id3, #ch3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ys, %D, %u : tensor<2x16x64xf32>, tensor<64xf32>, tensor<2x16x64xf32>) outs(%e3 : tensor<2x16x64xf32>) {
  ^bb0(%y: f32, %d: f32, %uu: f32, %o: f32):
    %m = arith.mulf %d, %uu : f32
    %s = arith.addf %y, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x16x64xf32>
  %y = linalg.generic {indexing_maps = [#id3, #id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%yd, %z : tensor<2x16x64xf32>, tensor<2x16x64xf32>) outs(%e3 : tensor<2x16x64xf32>) {
  ^bb0(%v: f32, %zz: f32, %o: f32):
    %n = arith.negf %zz : f32
    %e = math.exp %n : f32
    %d = arith.addf %one, %e : f32
    %sg = arith.divf %one, %d : f32
    %sl = arith.mulf %zz, %sg : f32
    %g = arith.mulf %v, %sl : f32
    linalg.yield %g : f32
  } -> tensor<2x16x64xf32>

  // out_proj
  %yf = tensor.collapse_shape %y [[0, 1], [2]] : tensor<2x16x64xf32> into tensor<32x64xf32>
  %e32 = tensor.empty() : tensor<32x32xf32>
  %f32 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %mo = linalg.matmul ins(%yf, %out_proj : tensor<32x64xf32>, tensor<64x32xf32>) outs(%f32 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %out = tensor.expand_shape %mo [[0, 1], [2]] output_shape [2, 16, 32] : tensor<32x32xf32> into tensor<2x16x32xf32>
  return %out, %ssm_state, %conv_tail : tensor<2x16x32xf32>, tensor<2x64x8xf32>, tensor<2x3x64xf32>
}
