// RUN: hybrid-opt %s --hybrid-tile="vector-width=8 row-tile=8" --canonicalize --cse -split-input-file | FileCheck %s
// RUN: hybrid-opt %s --hybrid-tile="vector-width=8 ops=hybrid.rg_lru" -split-input-file | FileCheck %s --check-prefix=ONLY

// ssm_scan with two B/C groups of 16 channels, tiled (batch 1, channels 8)
// by its hybrid.tile_sizes attribute: every per-channel operand is sliced
// at the tile's channels, B and C at the one group the tile lies in
// (channel floordiv 16); time is whole. The destinations become the
// forall's shared outputs, except that these are the caller's read-only
// arguments: the shared outputs start empty (no copy of the caller's
// state), the tile writes its slice of y, reads its (batch, channels) slice
// of the initial state from the argument itself, and the tile's y and final
// state land at the same offsets of the shared outputs.
// CHECK-DAG: #[[GROUP:.*]] = affine_map<()[s0] -> (s0 floordiv 16)>
// CHECK-LABEL: func.func @scan_groups
// CHECK-SAME: %[[U:[a-z0-9]+]]: tensor<2x?x32xf32>, %[[DT:[a-z0-9]+]]: tensor<2x?x32xf32>, %[[A:[a-z0-9]+]]: tensor<32x4xf32>, %[[B:[a-z0-9]+]]: tensor<2x?x2x4xf32>, %[[C:[a-z0-9]+]]: tensor<2x?x2x4xf32>, %[[H0:[a-z0-9]+]]: tensor<2x32x4xf32>, %[[OUT:[a-z0-9_]+]]: tensor<2x?x32xf32>
// CHECK-DAG: %[[YE:.*]] = tensor.empty(%{{.*}}) : tensor<2x?x32xf32>
// CHECK-DAG: %[[SE:.*]] = tensor.empty() : tensor<2x32x4xf32>
// CHECK: scf.forall (%[[BI:.*]], %[[CI:.*]]) = (0, 0) to (2, 32) step (1, 8) shared_outs(%[[YO:.*]] = %[[YE]], %[[SO:.*]] = %[[SE]])
// CHECK:   %[[US:.*]] = tensor.extract_slice %[[U]][%[[BI]], 0, %[[CI]]] [1, %{{.*}}, 8]
// CHECK:   %[[DTS:.*]] = tensor.extract_slice %[[DT]][%[[BI]], 0, %[[CI]]] [1, %{{.*}}, 8]
// CHECK:   %[[AS:.*]] = tensor.extract_slice %[[A]][%[[CI]], 0] [8, 4]
// CHECK:   %[[G:.*]] = affine.apply #[[GROUP]]()[%[[CI]]]
// CHECK:   %[[BS:.*]] = tensor.extract_slice %[[B]][%[[BI]], 0, %[[G]], 0] [1, %{{.*}}, 1, 4]
// CHECK:   %[[CS:.*]] = tensor.extract_slice %[[C]][%[[BI]], 0, %{{.*}}, 0] [1, %{{.*}}, 1, 4]
// CHECK:   %[[YS:.*]] = tensor.extract_slice %[[YO]][%[[BI]], 0, %[[CI]]] [1, %{{.*}}, 8]
// CHECK:   %[[HS:.*]] = tensor.extract_slice %[[H0]][%[[BI]], %[[CI]], 0] [1, 8, 4]
// CHECK:   %[[Y:.*]], %[[S:.*]] = hybrid.ssm_scan u(%[[US]] : tensor<1x?x8xf32>) delta(%[[DTS]] : tensor<1x?x8xf32>) A(%[[AS]] : tensor<8x4xf32>) B(%[[BS]] : tensor<1x?x1x4xf32>) C(%[[CS]] : tensor<1x?x1x4xf32>) init(%[[HS]] : tensor<1x8x4xf32>) delta_softplus outs(%[[YS]] : tensor<1x?x8xf32>)
// CHECK-SAME: -> tensor<1x?x8xf32>, tensor<1x8x4xf32>
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %[[Y]] into %[[YO]][%[[BI]], 0, %[[CI]]] [1, %{{.*}}, 8]
// CHECK:     tensor.parallel_insert_slice %[[S]] into %[[SO]][%[[BI]], %[[CI]], 0] [1, 8, 4]
// ONLY-LABEL: func.func @scan_groups
// ONLY-NOT: scf.forall
func.func @scan_groups(%u: tensor<2x?x32xf32>, %dt: tensor<2x?x32xf32>, %A: tensor<32x4xf32>,
    %B: tensor<2x?x2x4xf32>, %C: tensor<2x?x2x4xf32>, %h0: tensor<2x32x4xf32>, %y_out: tensor<2x?x32xf32>) -> (tensor<2x?x32xf32>, tensor<2x32x4xf32>) {
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x?x32xf32>) delta(%dt : tensor<2x?x32xf32>)
      A(%A : tensor<32x4xf32>) B(%B : tensor<2x?x2x4xf32>) C(%C : tensor<2x?x2x4xf32>) init(%h0 : tensor<2x32x4xf32>)
      delta_softplus outs(%y_out : tensor<2x?x32xf32>) {hybrid.tile_sizes = array<i64: 1, 8>} -> tensor<2x?x32xf32>, tensor<2x32x4xf32>
  return %y, %h : tensor<2x?x32xf32>, tensor<2x32x4xf32>
}

// -----

// Grouped-query attention (4 query heads over 2 K/V heads), window 16,
// tiled by 2 query heads x 16 queries: a tile reads K/V head h floordiv 2
// and only the keys its queries see, [max(0, i - 15), i + 16).
// CHECK-DAG: #[[START:.*]] = affine_map<()[s0] -> (0, s0 - 15)>
// CHECK-DAG: #[[LEN:.*]] = affine_map<()[s0, s1] -> (-s0 + s1 + 16)>
// CHECK-DAG: #[[KVH:.*]] = affine_map<()[s0] -> (s0 floordiv 2)>
// CHECK-LABEL: func.func @attention
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x64x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x64x2x8xf32>
// CHECK: scf.forall (%[[H:.*]], %[[I:.*]]) = (0, 0) to (4, 64) step (2, 16)
// CHECK:   %[[QS:.*]] = tensor.extract_slice %[[Q]][0, %[[I]], %[[H]], 0] [1, 16, 2, 8]
// CHECK:   %[[S0:.*]] = affine.max #[[START]]()[%[[I]]]
// CHECK:   %[[N:.*]] = affine.apply #[[LEN]]()[%[[S0]], %[[I]]]
// CHECK:   %[[G:.*]] = affine.apply #[[KVH]]()[%[[H]]]
// CHECK:   %[[KS:.*]] = tensor.extract_slice %[[K]][0, %[[S0]], %[[G]], 0] [1, %[[N]], 1, 8]
// CHECK:   %[[O:.*]] = hybrid.windowed_attention q(%[[QS]] : tensor<1x16x2x8xf32>) k(%[[KS]] : tensor<1x?x1x8xf32>) v(%{{.*}} : tensor<1x?x1x8xf32>) window 16
// CHECK:   tensor.parallel_insert_slice %[[O]] into %{{.*}}[0, %[[I]], %[[H]], 0] [1, 16, 2, 8]
func.func @attention(%q: tensor<1x64x4x8xf32>, %k: tensor<1x64x2x8xf32>, %v: tensor<1x64x2x8xf32>, %o_out: tensor<1x64x4x8xf32>) -> tensor<1x64x4x8xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<1x64x4x8xf32>) k(%k : tensor<1x64x2x8xf32>) v(%v : tensor<1x64x2x8xf32>)
      window 16 outs(%o_out : tensor<1x64x4x8xf32>) {hybrid.tile_sizes = array<i64: 1, 2, 16>} -> tensor<1x64x4x8xf32>
  return %o : tensor<1x64x4x8xf32>
}

// -----

// Gated delta rule with 4 value heads over 2 q/k heads, tiled by the cost
// model: one value head and 8 value rows (a multiple of the lowering's
// row tile) per tile, the q/k head of the value head's group, the per-head
// beta.
// CHECK-LABEL: func.func @delta_rule
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x?x2x16xf32>, %{{[a-z0-9]+}}: tensor<1x?x2x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x?x4x16xf32>, %[[BETA:[a-z0-9]+]]: tensor<1x?x4xf32>, %[[G:[a-z0-9]+]]: tensor<1x?x4xf32>
// CHECK: scf.forall (%[[H:.*]], %[[R:.*]]) = (0, 0) to (4, 16) step (1, 8)
// CHECK:   tensor.extract_slice %[[Q]][0, 0, %{{.*}}, 0] [1, %{{.*}}, 1, 16]
// CHECK:   %[[VS:.*]] = tensor.extract_slice %[[V]][0, 0, %[[H]], %[[R]]] [1, %{{.*}}, 1, 8]
// CHECK:   %[[BS:.*]] = tensor.extract_slice %[[BETA]][0, 0, %[[H]]] [1, %{{.*}}, 1]
// CHECK:   %[[GS:.*]] = tensor.extract_slice %[[G]][0, 0, %[[H]]] [1, %{{.*}}, 1]
// CHECK:   %[[O:.*]], %[[S:.*]] = hybrid.delta_rule {{.*}} v(%[[VS]] : tensor<1x?x1x8xf32>) beta(%[[BS]] : tensor<1x?x1xf32>) log_decay(%[[GS]] : tensor<1x?x1xf32>)
// CHECK-SAME: -> tensor<1x?x1x8xf32>, tensor<1x1x8x16xf32>
// CHECK:   tensor.parallel_insert_slice %[[S]] into %{{.*}}[0, %[[H]], %[[R]], 0] [1, 1, 8, 16]
func.func @delta_rule(%q: tensor<1x?x2x16xf32>, %k: tensor<1x?x2x16xf32>, %v: tensor<1x?x4x16xf32>,
    %beta: tensor<1x?x4xf32>, %g: tensor<1x?x4xf32>, %s_init: tensor<1x4x16x16xf32>, %o_out: tensor<1x?x4x16xf32>) -> (tensor<1x?x4x16xf32>, tensor<1x4x16x16xf32>) {
  %o, %s = hybrid.delta_rule q(%q : tensor<1x?x2x16xf32>) k(%k : tensor<1x?x2x16xf32>) v(%v : tensor<1x?x4x16xf32>)
      beta(%beta : tensor<1x?x4xf32>) log_decay(%g : tensor<1x?x4xf32>) init(%s_init : tensor<1x4x16x16xf32>) outs(%o_out : tensor<1x?x4x16xf32>) -> tensor<1x?x4x16xf32>, tensor<1x4x16x16xf32>
  return %o, %s : tensor<1x?x4x16xf32>, tensor<1x4x16x16xf32>
}

// -----

#id = affine_map<(b, t, c) -> (b, t, c)>

// An element-wise producer used only by the recurrence is computed inside
// the tile, on the tile's channels.
// CHECK-LABEL: func.func @fuse_producer
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x8x48xf32>
// CHECK: scf.forall (%[[C:.*]]) = (0) to (48) step (16)
// CHECK:   %[[XS:.*]] = tensor.extract_slice %[[X]][0, 0, %[[C]]] [1, 8, 16]
// CHECK:   %[[SIG:.*]] = linalg.generic {{.*}} ins(%[[XS]] : tensor<1x8x16xf32>)
// CHECK:   hybrid.rg_lru x(%[[XS]] : tensor<1x8x16xf32>) gate_x(%[[SIG]] : tensor<1x8x16xf32>) gate_a(%[[XS]] : tensor<1x8x16xf32>)
// ONLY-LABEL: func.func @fuse_producer
// ONLY: scf.forall
// ONLY: hybrid.rg_lru
func.func @fuse_producer(%x: tensor<1x8x48xf32>, %a: tensor<48xf32>, %s_init: tensor<1x48xf32>, %h_out: tensor<1x8x48xf32>) -> (tensor<1x8x48xf32>, tensor<1x48xf32>) {
  %e = tensor.empty() : tensor<1x8x48xf32>
  %gx = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x8x48xf32>) outs(%e : tensor<1x8x48xf32>) {
  ^bb0(%v: f32, %o: f32):
    %n = arith.negf %v : f32
    linalg.yield %n : f32
  } -> tensor<1x8x48xf32>
  %h, %s = hybrid.rg_lru x(%x : tensor<1x8x48xf32>) gate_x(%gx : tensor<1x8x48xf32>) gate_a(%x : tensor<1x8x48xf32>)
      a_param(%a : tensor<48xf32>) init(%s_init : tensor<1x48xf32>) outs(%h_out : tensor<1x8x48xf32>) {hybrid.tile_sizes = array<i64: 1, 16>} -> tensor<1x8x48xf32>, tensor<1x48xf32>
  return %h, %s : tensor<1x8x48xf32>, tensor<1x48xf32>
}

// -----

// A hybrid op already inside an scf.forall is a tile: it is not tiled
// again. Tile sizes of 0 leave an op alone.
// CHECK-LABEL: func.func @do_not_tile_a_tile
// CHECK: scf.forall
// CHECK-NOT: scf.forall
// CHECK: hybrid.gru
// CHECK-LABEL: func.func @do_not_tile_zero_sizes
// CHECK-NOT: scf.forall
func.func @do_not_tile_a_tile(%xg: tensor<4x8x48xf32>, %wh: tensor<16x48xf32>, %s_init: tensor<1x16xf32>, %h_out: tensor<1x8x16xf32>) -> tensor<4x8x16xf32> {
  %e = tensor.empty() : tensor<4x8x16xf32>
  %r = scf.forall (%b) in (4) shared_outs(%out = %e) -> (tensor<4x8x16xf32>) {
    %xs = tensor.extract_slice %xg[%b, 0, 0] [1, 8, 48] [1, 1, 1] : tensor<4x8x48xf32> to tensor<1x8x48xf32>
    %h, %s = hybrid.gru input_gates(%xs : tensor<1x8x48xf32>) hidden_weight(%wh : tensor<16x48xf32>) init(%s_init : tensor<1x16xf32>) outs(%h_out : tensor<1x8x16xf32>)
        -> tensor<1x8x16xf32>, tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %h into %out[%b, 0, 0] [1, 8, 16] [1, 1, 1] : tensor<1x8x16xf32> into tensor<4x8x16xf32>
    }
  }
  return %r : tensor<4x8x16xf32>
}
func.func @do_not_tile_zero_sizes(%xg: tensor<4x8x48xf32>, %wh: tensor<16x48xf32>, %s_init: tensor<4x16xf32>, %h_out: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %h, %s = hybrid.gru input_gates(%xg : tensor<4x8x48xf32>) hidden_weight(%wh : tensor<16x48xf32>) init(%s_init : tensor<4x16xf32>)
      outs(%h_out : tensor<4x8x16xf32>) {hybrid.tile_sizes = array<i64: 0>} -> tensor<4x8x16xf32>, tensor<4x16xf32>
  return %h : tensor<4x8x16xf32>
}

// -----

// A donated state (`bufferization.writable = true`) stays the shared output
// and is updated in place: its slices are read from the shared output. A
// state that is not an argument (a zero fill) is not replaced either.
// CHECK-LABEL: func.func @donated_and_fresh_states
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x5x16xf32>, %[[H:[a-z0-9]+]]: tensor<1x16xf32> {bufferization.writable = true}
// CHECK: scf.forall (%{{.*}}) = (0) to (16) step (8) shared_outs(%{{.*}} = %{{.*}}, %[[SO:.*]] = %[[H]])
// CHECK:   tensor.extract_slice %[[SO]][0, %{{.*}}] [1, 8]
// CHECK: %[[FILL:.*]] = linalg.fill
// CHECK: scf.forall (%{{.*}}) = (0) to (16) step (8) shared_outs(%{{.*}} = %{{.*}}, %[[SO2:.*]] = %[[FILL]])
// CHECK:   tensor.extract_slice %[[SO2]][0, %{{.*}}] [1, 8]
func.func @donated_and_fresh_states(%x: tensor<1x5x16xf32>,
    %h: tensor<1x16xf32> {bufferization.writable = true})
    -> (tensor<1x5x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>) {
  %e = tensor.empty() : tensor<1x5x16xf32>
  %y, %s = hybrid.rg_lru x(%x : tensor<1x5x16xf32>) log_a(%x : tensor<1x5x16xf32>)
      init(%h : tensor<1x16xf32>) outs(%e : tensor<1x5x16xf32>)
      {hybrid.tile_sizes = array<i64: 1, 8>} -> tensor<1x5x16xf32>, tensor<1x16xf32>
  %zero = arith.constant 0.0 : f32
  %h2 = tensor.empty() : tensor<1x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%h2 : tensor<1x16xf32>) -> tensor<1x16xf32>
  %y2, %s2 = hybrid.rg_lru x(%y : tensor<1x5x16xf32>) log_a(%x : tensor<1x5x16xf32>)
      init(%z : tensor<1x16xf32>) outs(%e : tensor<1x5x16xf32>)
      {hybrid.tile_sizes = array<i64: 1, 8>} -> tensor<1x5x16xf32>, tensor<1x16xf32>
  return %y2, %s, %s2 : tensor<1x5x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>
}
