// RUN: hybrid-opt %s --pass-pipeline="builtin.module(func.func(hybrid-tile-and-vectorize{dynamic-rows=8}))" | FileCheck %s
// RUN: hybrid-opt %s --pass-pipeline="builtin.module(func.func(hybrid-tile-and-vectorize))" | FileCheck %s --check-prefix=ONE

// A projection [B, T, 64] x [64, 96] written with the reduction innermost,
// (b, t, o, i): the loops are interchanged to (b, t, i, o), then an
// scf.forall over parallel tiles (batch by 1, tokens by 8 with
// dynamic-rows=8, 96 by 32), the fill fused into the tile. The dynamic
// token tile is versioned: a full
// tile of 8 tokens is cast to static sizes and vectorized (an scf.for over
// reduction tiles of 16; per step x[t, k] broadcast times rows W[k, 32
// columns], a contiguous read, reduced over k in the 32 lanes: no dot
// products, no vector.contract); the last, partial tile runs token by
// token.
// CHECK-LABEL: func.func @linear
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x?x64xf32>
// CHECK: scf.forall ({{.*}}, %[[T0:[a-z0-9]+]], {{.*}}) = (0, 0, 0) to ({{.*}}, {{.*}}, 96) step (1, 8, 32)
// CHECK:   %[[N:[a-z0-9_]+]] = affine.min {{.*}}(%[[T0]])
// CHECK:   %[[XS:[a-z0-9_]+]] = tensor.extract_slice %[[X]][%{{.*}}, %[[T0]], 0] [1, %[[N]], 64]
// CHECK:   %[[FILL:[a-z0-9_]+]] = linalg.fill
// CHECK:   %[[FULL:[a-z0-9_]+]] = arith.cmpi eq, %[[N]], %c8
// CHECK:   %[[R:[a-z0-9_]+]] = scf.if %[[FULL]] -> (tensor<1x?x32xf32>)
// CHECK:     %[[XF:[a-z0-9_]+]] = tensor.cast %[[XS]] : tensor<1x?x64xf32> to tensor<1x8x64xf32>
// CHECK:     %[[ACC0:[a-z0-9_]+]] = tensor.cast %[[FILL]] : tensor<1x?x32xf32> to tensor<1x8x32xf32>
// CHECK:     %[[RED:[a-z0-9_]+]] = scf.for %[[K:[a-z0-9_]+]] = %c0 to %c64 step %c16 iter_args(%[[ACC:[a-z0-9_]+]] = %[[ACC0]]) -> (tensor<1x8x32xf32>)
// CHECK:       %[[XK:[a-z0-9_]+]] = tensor.extract_slice %[[XF]][0, 0, %[[K]]] [1, 8, 16]
// CHECK:       vector.transfer_read %[[XK]]{{.*}}permutation_map = #[[BCAST:map[0-9]*]]} : tensor<1x8x16xf32>, vector<8x16x32xf32>
// CHECK:       vector.transfer_read {{.*}} : tensor<16x32xf32>, vector<8x16x32xf32>
// CHECK:       vector.transfer_read %[[ACC]]
// CHECK:       arith.mulf {{.*}} : vector<8x16x32xf32>
// CHECK:       vector.multi_reduction <add>, {{.*}} [2] : vector<1x8x16x32xf32> to vector<1x8x32xf32>
// CHECK:       vector.transfer_write {{.*}}, %[[ACC]]
// CHECK:     tensor.cast %[[RED]] : tensor<1x8x32xf32> to tensor<1x?x32xf32>
// CHECK:   } else {
// CHECK:     scf.for %[[T:[a-z0-9_]+]] = %c0 to %[[N]] step %c1 iter_args(%{{.*}} = %[[FILL]])
// CHECK:       tensor.extract_slice %[[XS]][0, %[[T]], 0] [1, 1, 64]
// CHECK:       vector.multi_reduction <add>, {{.*}} [2] : vector<1x1x16x32xf32> to vector<1x1x32xf32>
// CHECK:   tensor.parallel_insert_slice %[[R]]
// CHECK-NOT: vector.contract
// CHECK-NOT: linalg.generic
// By default (dynamic-rows=1) a dynamic token dimension is tiled by 1:
// ONE-LABEL: func.func @linear
// ONE: scf.forall ({{.*}}) = (0, 0, 0) to ({{.*}}, {{.*}}, 96) step (1, 1, 32)
// ONE-NOT: scf.if
// ONE: vector.multi_reduction <add>, {{.*}} [2] : vector<1x1x16x32xf32> to vector<1x1x32xf32>
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

// An empty loop (a static 0) has nothing to tile: left to the loop lowering
// (upstream tiling would divide by its size).
// CHECK-LABEL: func.func @do_not_tile_empty
// CHECK: %[[R:.*]] = linalg.generic
// CHECK-SAME: ins(%{{.*}} : tensor<4x0xf32>)
// CHECK-NOT: scf.forall
// CHECK: return %[[R]]
func.func @do_not_tile_empty(%x: tensor<4x0xf32>) -> tensor<4x0xf32> {
  %e = tensor.empty() : tensor<4x0xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x0xf32>) outs(%e : tensor<4x0xf32>) {
  ^bb0(%a: f32, %b: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x0xf32>
  return %y : tensor<4x0xf32>
}
