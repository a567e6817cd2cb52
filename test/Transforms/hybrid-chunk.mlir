// RUN: hybrid-opt %s --hybrid-chunk="chunk-size=16" --canonicalize --cse -split-input-file | FileCheck %s
// RUN: hybrid-opt %s --hybrid-chunk="chunk-size=0" -split-input-file | FileCheck %s --check-prefix=OFF

// A scan over a dynamic number of positions becomes a loop over chunks of
// 16 that carries the state (from the op's initial state) and the sequence
// destination: each chunk runs the scan on positions
// [c, c + min(16, T - c)) of every per-step operand from the carried state,
// writes into that slice of the destination, its final state is carried on,
// and its outputs land at position c.
// CHECK-DAG: #[[LEN:.*]] = affine_map<()[s0, s1] -> (16, s0 - s1)>
// CHECK-LABEL: func.func @scan
// CHECK-SAME: %[[U:[a-z0-9]+]]: tensor<1x?x8xf32>, %[[DT:[a-z0-9]+]]: tensor<1x?x8xf32>, %[[A:[a-z0-9]+]]: tensor<8x4xf32>, %[[B:[a-z0-9]+]]: tensor<1x?x1x4xf32>, %[[C:[a-z0-9]+]]: tensor<1x?x1x4xf32>, %[[Z:[a-z0-9]+]]: tensor<1x?x8xf32>, %[[S0:[a-z0-9]+]]: tensor<1x8x4xf32>, %[[OUT:[a-z0-9]+]]: tensor<1x?x8xf32>
// CHECK:     %[[T:.*]] = tensor.dim %[[U]], %c1
// CHECK:     %[[R:.*]]:2 = scf.for %[[CI:.*]] = %c0 to %[[T]] step %c16 iter_args(%[[S:.*]] = %[[S0]], %[[Y:.*]] = %[[OUT]])
// CHECK:       %[[N:.*]] = affine.min #[[LEN]]()[%[[T]], %[[CI]]]
// CHECK:       %[[US:.*]] = tensor.extract_slice %[[U]][0, %[[CI]], 0] [1, %[[N]], 8]
// CHECK:       %[[DTS:.*]] = tensor.extract_slice %[[DT]][0, %[[CI]], 0] [1, %[[N]], 8]
// CHECK:       %[[BS:.*]] = tensor.extract_slice %[[B]][0, %[[CI]], 0, 0] [1, %[[N]], 1, 4]
// CHECK:       %[[CS:.*]] = tensor.extract_slice %[[C]][0, %[[CI]], 0, 0] [1, %[[N]], 1, 4]
// CHECK:       %[[ZS:.*]] = tensor.extract_slice %[[Z]][0, %[[CI]], 0] [1, %[[N]], 8]
// CHECK:       %[[YD:.*]] = tensor.extract_slice %[[Y]][0, %[[CI]], 0] [1, %[[N]], 8]
// CHECK:       %[[YC:.*]], %[[SC:.*]] = hybrid.ssm_scan u(%[[US]] : {{.*}}) delta(%[[DTS]] : {{.*}}) A(%[[A]] : {{.*}}) B(%[[BS]] : {{.*}}) C(%[[CS]] : {{.*}}) z(%[[ZS]] : {{.*}}) init(%[[S]] : tensor<1x8x4xf32>) delta_softplus outs(%[[YD]] : tensor<1x?x8xf32>)
// CHECK:       %[[Y2:.*]] = tensor.insert_slice %[[YC]] into %[[Y]][0, %[[CI]], 0] [1, %[[N]], 8]
// CHECK:       scf.yield %[[SC]], %[[Y2]]
// CHECK:     return %[[R]]#1, %[[R]]#0
// OFF-LABEL: func.func @scan
// OFF-NOT: scf.for
func.func @scan(%u: tensor<1x?x8xf32>, %dt: tensor<1x?x8xf32>, %A: tensor<8x4xf32>,
    %B: tensor<1x?x1x4xf32>, %C: tensor<1x?x1x4xf32>, %z: tensor<1x?x8xf32>, %h_init: tensor<1x8x4xf32>, %y_out: tensor<1x?x8xf32>) -> (tensor<1x?x8xf32>, tensor<1x8x4xf32>) {
  %y, %h = hybrid.ssm_scan u(%u : tensor<1x?x8xf32>) delta(%dt : tensor<1x?x8xf32>)
      A(%A : tensor<8x4xf32>) B(%B : tensor<1x?x1x4xf32>) C(%C : tensor<1x?x1x4xf32>) z(%z : tensor<1x?x8xf32>) init(%h_init : tensor<1x8x4xf32>)
      delta_softplus outs(%y_out : tensor<1x?x8xf32>) -> tensor<1x?x8xf32>, tensor<1x8x4xf32>
  return %y, %h : tensor<1x?x8xf32>, tensor<1x8x4xf32>
}

// -----

// With lengths and an initial state: the loop starts from the given state
// and chunk c processes clamp(lengths - c, 0, chunk length) positions of
// each sequence.
// CHECK-LABEL: func.func @gru_lengths
// CHECK-SAME: %[[XG:[a-z0-9]+]]: tensor<2x40x48xf32>, %{{[a-z0-9]+}}: tensor<16x48xf32>, %[[H0:[a-z0-9]+]]: tensor<2x16xf32>, %[[L:[a-z0-9]+]]: tensor<2xi64>
// CHECK: scf.for %[[CI:.*]] = %c0 to %c40 step %c16 iter_args(%[[S:.*]] = %[[H0]], %{{.*}} = %{{.*}})
// CHECK:   %[[CI64:.*]] = arith.index_cast %[[CI]] : index to i64
// CHECK:   %[[LC:.*]] = linalg.generic {{.*}} ins(%[[L]] : tensor<2xi64>)
// CHECK:     arith.subi %{{.*}}, %[[CI64]] : i64
// CHECK:     arith.minsi
// CHECK:     arith.maxsi
// CHECK:   hybrid.gru input_gates(%{{.*}} : tensor<2x?x48xf32>) {{.*}} init(%[[S]] : tensor<2x16xf32>) lengths(%[[LC]] : tensor<2xi64>)
func.func @gru_lengths(%xg: tensor<2x40x48xf32>, %wh: tensor<16x48xf32>, %h0: tensor<2x16xf32>, %len: tensor<2xi64>, %h_out: tensor<2x40x16xf32>)
    -> (tensor<2x40x16xf32>, tensor<2x16xf32>) {
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x40x48xf32>) hidden_weight(%wh : tensor<16x48xf32>)
      init(%h0 : tensor<2x16xf32>) lengths(%len : tensor<2xi64>) outs(%h_out : tensor<2x40x16xf32>) -> tensor<2x40x16xf32>, tensor<2x16xf32>
  return %h, %s : tensor<2x40x16xf32>, tensor<2x16xf32>
}

// -----

// A sequence that fits in one chunk, and an op that is not a recurrence,
// are left alone.
// CHECK-LABEL: func.func @do_not_chunk_short
// CHECK-NOT: scf.for
// CHECK: hybrid.causal_conv1d
// CHECK-LABEL: func.func @do_not_chunk_attention
// CHECK-NOT: scf.for
func.func @do_not_chunk_short(%x: tensor<1x16x8xf32>, %w: tensor<4x8xf32>, %t_init: tensor<1x3x8xf32>, %y_out: tensor<1x16x8xf32>) -> tensor<1x16x8xf32> {
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x16x8xf32>) weight(%w : tensor<4x8xf32>) init(%t_init : tensor<1x3x8xf32>) outs(%y_out : tensor<1x16x8xf32>) -> tensor<1x16x8xf32>, tensor<1x3x8xf32>
  return %y : tensor<1x16x8xf32>
}
func.func @do_not_chunk_attention(%q: tensor<1x64x2x8xf32>, %o_out: tensor<1x64x2x8xf32>) -> tensor<1x64x2x8xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<1x64x2x8xf32>) k(%q : tensor<1x64x2x8xf32>) v(%q : tensor<1x64x2x8xf32>) outs(%o_out : tensor<1x64x2x8xf32>) -> tensor<1x64x2x8xf32>
  return %o : tensor<1x64x2x8xf32>
}
