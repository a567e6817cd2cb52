// RUN: hybrid-opt %s --convert-hybrid-to-scf --split-input-file | FileCheck %s
// RUN: hybrid-opt %s --convert-hybrid-to-scf="vector-width=16 row-tile=2" --split-input-file | FileCheck %s --check-prefix=WIDE

// The selective scan: a forall over (batch, channel tiles), a sequential for
// over time carrying the state tile vector<N x lanes>, masked transfers.
// CHECK-LABEL: func.func @ssm_scan
// CHECK-NOT: hybrid.
// CHECK: scf.forall (%[[B:.*]], %[[TILE:.*]]) in (%{{.*}}, %{{.*}}) shared_outs(%[[Y:.*]] = %{{.*}}, %[[S:.*]] = %{{.*}})
// CHECK: vector.transfer_read {{.*}} : tensor<24x16xf32>, vector<16x8xf32>
// CHECK: scf.for %[[T:.*]] = {{.*}} iter_args(%[[H:.*]] = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<16x8xf32>, tensor<1x?x?xf32>)
// CHECK: math.exp {{.*}} : vector<16x8xf32>
// CHECK: vector.outerproduct {{.*}} : vector<16xf32>, vector<8xf32>
// CHECK: vector.multi_reduction <add>, {{.*}} [0] : vector<16x8xf32> to vector<8xf32>
// CHECK: vector.transfer_write {{.*}} : vector<8xf32>, tensor<1x?x?xf32>
// CHECK: scf.yield
// CHECK: scf.forall.in_parallel
// CHECK-COUNT-2: tensor.parallel_insert_slice
// WIDE-LABEL: func.func @ssm_scan
// WIDE: vector<16x16xf32>
func.func @ssm_scan(%u: tensor<2x?x24xf32>, %A: tensor<24x16xf32>, %B: tensor<2x?x1x16xf32>)
    -> (tensor<2x?x24xf32>, tensor<2x24x16xf32>) {
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x?x24xf32>) delta(%u : tensor<2x?x24xf32>)
      A(%A : tensor<24x16xf32>) B(%B : tensor<2x?x1x16xf32>) C(%B : tensor<2x?x1x16xf32>)
      delta_softplus -> tensor<2x?x24xf32>, tensor<2x24x16xf32>
  return %y, %h : tensor<2x?x24xf32>, tensor<2x24x16xf32>
}

// -----

// Matrix states: tasks (batch, head, row tile), state vector<rows x K>.
// CHECK-LABEL: func.func @delta_rule
// CHECK: scf.forall ({{.*}}) in ({{.*}}, {{.*}}, {{.*}})
// CHECK: scf.for {{.*}} -> (vector<4x16xf32>, tensor<1x?x1x?xf32>)
// CHECK: vector.outerproduct {{.*}} : vector<4xf32>, vector<16xf32>
// WIDE-LABEL: func.func @delta_rule
// WIDE: -> (vector<2x16xf32>, tensor<1x?x1x?xf32>)
func.func @delta_rule(%q: tensor<1x?x2x16xf32>, %v: tensor<1x?x2x8xf32>, %beta: tensor<1x?x2xf32>)
    -> tensor<1x?x2x8xf32> {
  %o, %s = hybrid.delta_rule q(%q : tensor<1x?x2x16xf32>) k(%q : tensor<1x?x2x16xf32>)
      v(%v : tensor<1x?x2x8xf32>) beta(%beta : tensor<1x?x2xf32>)
      -> tensor<1x?x2x8xf32>, tensor<1x2x8x16xf32>
  return %o : tensor<1x?x2x8xf32>
}

// -----

// Attention: tasks (batch, head, query); online softmax over the window.
// CHECK-LABEL: func.func @attention
// CHECK: scf.forall ({{.*}}) in ({{.*}}, {{.*}}, {{.*}})
// CHECK: arith.maxsi
// CHECK: scf.for {{.*}} -> (f32, f32, vector<8xf32>)
// CHECK: vector.reduction <add>
// CHECK: arith.maximumf
func.func @attention(%q: tensor<1x?x4x8xf32>, %k: tensor<1x?x2x8xf32>) -> tensor<1x?x4x8xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<1x?x4x8xf32>) k(%k : tensor<1x?x2x8xf32>)
      v(%k : tensor<1x?x2x8xf32>) window 16 -> tensor<1x?x4x8xf32>
  return %o : tensor<1x?x4x8xf32>
}

// -----

// The causal conv: [initial_state; x] then one linalg.generic with a t + j
// access; the final state is the last K-1 rows.
// CHECK-LABEL: func.func @conv
// CHECK: tensor.insert_slice
// CHECK: tensor.insert_slice
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK: math.fma
// CHECK: linalg.generic
// CHECK: tensor.extract_slice
func.func @conv(%x: tensor<1x?x8xf32>, %w: tensor<4x8xf32>, %s: tensor<1x3x8xf32>)
    -> (tensor<1x?x8xf32>, tensor<1x3x8xf32>) {
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x?x8xf32>) weight(%w : tensor<4x8xf32>)
      init(%s : tensor<1x3x8xf32>) activation silu -> tensor<1x?x8xf32>, tensor<1x3x8xf32>
  return %y, %t : tensor<1x?x8xf32>, tensor<1x3x8xf32>
}

// -----

// Variable-length batches: outputs start as zeros, each task's time loop
// stops at its clamped length, and the conv's tail is gathered from
// position len[b].
// CHECK-LABEL: func.func @lengths
// CHECK: linalg.fill
// CHECK: scf.forall (%[[B:.*]], %{{.*}}) in
// CHECK: %[[N:.*]] = tensor.extract %{{.*}}[%[[B]]] : tensor<2xi32>
// CHECK: %[[NI:.*]] = arith.index_cast %[[N]] : i32 to index
// CHECK: %[[LO:.*]] = arith.maxsi %[[NI]], %{{.*}} : index
// CHECK: %[[UB:.*]] = arith.minsi %[[LO]], %{{.*}} : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[UB]] step
// CHECK-LABEL: func.func @conv_lengths
// CHECK: linalg.generic
// CHECK: arith.cmpi slt
// CHECK: arith.select
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}} : tensor<2x?x8xf32>
func.func @lengths(%x: tensor<2x?x8xf32>, %a: tensor<8xf32>, %n: tensor<2xi32>)
    -> (tensor<2x?x8xf32>, tensor<2x8xf32>) {
  %h, %s = hybrid.rg_lru x(%x : tensor<2x?x8xf32>) gate_x(%x : tensor<2x?x8xf32>)
      gate_a(%x : tensor<2x?x8xf32>) a_param(%a : tensor<8xf32>)
      lengths(%n : tensor<2xi32>) -> tensor<2x?x8xf32>, tensor<2x8xf32>
  return %h, %s : tensor<2x?x8xf32>, tensor<2x8xf32>
}
func.func @conv_lengths(%x: tensor<2x?x8xf32>, %w: tensor<4x8xf32>, %n: tensor<2xindex>)
    -> (tensor<2x?x8xf32>, tensor<2x3x8xf32>) {
  %y, %t = hybrid.causal_conv1d x(%x : tensor<2x?x8xf32>) weight(%w : tensor<4x8xf32>)
      lengths(%n : tensor<2xindex>) -> tensor<2x?x8xf32>, tensor<2x3x8xf32>
  return %y, %t : tensor<2x?x8xf32>, tensor<2x3x8xf32>
}

// -----

// gated_parallel: both regions inlined, one generic mixes them.
// CHECK-LABEL: func.func @parallel
// CHECK-NOT: hybrid.
// CHECK: linalg.generic
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @parallel(%n: tensor<1x4x8xf32>, %g: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %o = hybrid.gated_parallel(%n, %g) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%x: tensor<1x4x8xf32>):
      hybrid.yield %x : tensor<1x4x8xf32>
    } attention {
    ^bb0(%x: tensor<1x4x8xf32>):
      %r = hybrid.rms_norm %x : tensor<1x4x8xf32> -> tensor<1x4x8xf32>
      hybrid.yield %r : tensor<1x4x8xf32>
    }
  return %o : tensor<1x4x8xf32>
}
