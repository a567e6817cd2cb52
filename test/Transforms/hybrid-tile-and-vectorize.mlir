// RUN: hybrid-opt %s --pass-pipeline="builtin.module(func.func(hybrid-tile-and-vectorize))" | FileCheck %s

// A projection [B, T, 64] x [64, 96] written with the reduction innermost,
// (b, t, o, i): the loops are interchanged to (b, t, i, o), then an
// scf.forall over full parallel tiles (dynamic sizes tiled by 1, 96 by 32),
// the fill fused into the tile, an scf.for over reduction tiles of 16, and
// per tile x[k] broadcast times rows W[k, 32 columns] (a contiguous read),
// reduced over k in the 32 lanes: no dot products, no vector.contract.
// CHECK-LABEL: func.func @linear
// CHECK: scf.forall ({{.*}}) = (0, 0, 0) to ({{.*}}, {{.*}}, 96) step (1, 1, 32)
// CHECK: vector.transfer_write
// CHECK: scf.for {{.*}} = %c0 to %c64 step %c16
// CHECK: vector.transfer_read {{.*}} permutation_map = #[[BCAST:map[0-9]*]]} : tensor<1x1x16xf32>, vector<16x32xf32>
// CHECK: vector.transfer_read {{.*}} {in_bounds = [true, true]} : tensor<16x32xf32>, vector<16x32xf32>
// CHECK: arith.mulf {{.*}} : vector<16x32xf32>
// CHECK: vector.multi_reduction <add>, {{.*}} [2] : vector<1x1x16x32xf32> to vector<1x1x32xf32>
// CHECK-NOT: vector.contract
// CHECK-NOT: linalg.generic
func.func @linear(%x: tensor<?x?x64xf32>, %w: tensor<64x96xf32>) -> tensor<?x?x96xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = tensor.dim %x, %c0 : tensor<?x?x64xf32>
  %t = tensor.dim %x, %c1 : tensor<?x?x64xf32>
  %e = tensor.empty(%b, %t) : tensor<?x?x96xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?x96xf32>) -> tensor<?x?x96xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(b, t, o, i) -> (b, t, i)>,
                                        affine_map<(b, t, o, i) -> (i, o)>,
                                        affine_map<(b, t, o, i) -> (b, t, o)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<?x?x64xf32>, tensor<64x96xf32>) outs(%f : tensor<?x?x96xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %m = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<?x?x96xf32>
  return %r : tensor<?x?x96xf32>
}

// Convolution-style accesses (t + j) are left alone.
// CHECK-LABEL: func.func @do_not_vectorize_conv
// CHECK: linalg.generic
// CHECK-NOT: vector.
func.func @do_not_vectorize_conv(%x: tensor<1x10x8xf32>, %w: tensor<3x8xf32>, %o: tensor<1x8x8xf32>) -> tensor<1x8x8xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, t, c, j) -> (b, t + j, c)>,
                                        affine_map<(b, t, c, j) -> (j, c)>,
                                        affine_map<(b, t, c, j) -> (b, t, c)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x10x8xf32>, tensor<3x8xf32>) outs(%o : tensor<1x8x8xf32>) {
  ^bb0(%a: f32, %bb: f32, %acc: f32):
    %m = arith.mulf %a, %bb : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x8x8xf32>
  return %r : tensor<1x8x8xf32>
}
