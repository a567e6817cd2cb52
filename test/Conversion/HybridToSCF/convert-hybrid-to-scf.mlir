// RUN: hybrid-opt %s --convert-hybrid-to-scf --split-input-file | FileCheck %s
// RUN: hybrid-opt %s --convert-hybrid-to-scf="vector-width=16 row-tile=2" --split-input-file | FileCheck %s --check-prefix=WIDE
// RUN: hybrid-opt %s --convert-hybrid-to-scf --canonicalize --cse --split-input-file | FileCheck %s --check-prefix=CANON

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
func.func @ssm_scan(%u: tensor<2x?x24xf32>, %A: tensor<24x16xf32>, %B: tensor<2x?x1x16xf32>, %h_init: tensor<2x24x16xf32>, %y_out: tensor<2x?x24xf32>)
    -> (tensor<2x?x24xf32>, tensor<2x24x16xf32>) {
  %y, %h = hybrid.ssm_scan u(%u : tensor<2x?x24xf32>) delta(%u : tensor<2x?x24xf32>)
      A(%A : tensor<24x16xf32>) B(%B : tensor<2x?x1x16xf32>) C(%B : tensor<2x?x1x16xf32>) init(%h_init : tensor<2x24x16xf32>)
      delta_softplus outs(%y_out : tensor<2x?x24xf32>) -> tensor<2x?x24xf32>, tensor<2x24x16xf32>
  return %y, %h : tensor<2x?x24xf32>, tensor<2x24x16xf32>
}

// -----

// Matrix states: tasks (batch, head, value-row tile); the state tile is
// kept transposed, keys x value lanes ([16 x 8] here), and carried through
// time; S k and S q are FMA chains down its key rows.
// CHECK-LABEL: func.func @delta_rule
// CHECK: scf.forall ({{.*}}) in ({{.*}}, {{.*}}, {{.*}})
// CHECK: scf.for {{.*}} -> (tensor<16x8xf32>, tensor<1x?x1x?xf32>, tensor<16xf32>)
// CHECK:   scf.for {{.*}} -> (vector<8xf32>)
// CHECK:     vector.fma {{.*}} : vector<8xf32>
// CHECK:   scf.for {{.*}} -> (tensor<16x8xf32>, vector<8xf32>)
// WIDE-LABEL: func.func @delta_rule
// WIDE: scf.for {{.*}} -> (tensor<16x2xf32>, tensor<1x?x1x?xf32>, tensor<16xf32>)
func.func @delta_rule(%q: tensor<1x?x2x16xf32>, %v: tensor<1x?x2x8xf32>, %beta: tensor<1x?x2xf32>, %s_init: tensor<1x2x8x16xf32>, %o_out: tensor<1x?x2x8xf32>)
    -> tensor<1x?x2x8xf32> {
  %o, %s = hybrid.delta_rule q(%q : tensor<1x?x2x16xf32>) k(%q : tensor<1x?x2x16xf32>)
      v(%v : tensor<1x?x2x8xf32>) beta(%beta : tensor<1x?x2xf32>) init(%s_init : tensor<1x2x8x16xf32>) outs(%o_out : tensor<1x?x2x8xf32>)
      -> tensor<1x?x2x8xf32>, tensor<1x2x8x16xf32>
  return %o : tensor<1x?x2x8xf32>
}

// -----

// Attention: tasks (batch, head, block of 64 queries as lanes). The scaled
// queries become a [d x lanes] tile; per key of the block's windows, the
// scores are an FMA chain down it, keys outside a lane's window get -1e30,
// the online softmax runs on vectors and the accumulator tile [d x lanes]
// is rescaled and updated row by row; lanes that saw no key write zeros.
// CANON-LABEL: func.func @attention
// CANON-SAME: %[[Q:[a-z0-9]+]]: tensor<1x?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x?x2x8xf32>
// CANON: scf.forall (%[[H:[a-z0-9_]+]], %[[BLK:[a-z0-9_]+]]) in (4, %{{.*}}) shared_outs(%[[O:[a-z0-9_]+]] = %{{.*}})
// CANON:   %[[I0:[a-z0-9_]+]] = arith.muli %[[BLK]], %c64
// CANON:   %[[QT:[a-z0-9_]+]] = scf.for %[[D:[a-z0-9_]+]] = {{.*}} -> (tensor<8x64xf32>)
// CANON:     vector.transfer_read %[[Q]][%{{.*}}, %[[I0]], %[[H]], %[[D]]]{{.*}}permutation_map
// CANON:   %[[ACC0:[a-z0-9_]+]] = scf.for {{.*}} -> (tensor<8x64xf32>)
// CANON:   %[[LOOP:[a-z0-9_]+]]:3 = scf.for %[[J:[a-z0-9_]+]] = {{.*}} iter_args(%[[ACC:[a-z0-9_]+]] = %[[ACC0]], %[[M:[a-z0-9_]+]] = %{{.*}}, %[[L:[a-z0-9_]+]] = %{{.*}}) -> (tensor<8x64xf32>, vector<64xf32>, vector<64xf32>)
// CANON:     %[[S:[a-z0-9_]+]] = scf.for {{.*}} -> (vector<64xf32>)
// CANON:       vector.transfer_read %[[QT]]
// CANON:       tensor.extract %[[K]][%{{.*}}, %[[J]], %{{.*}}, %{{.*}}]
// CANON:       vector.fma
// CANON:     %[[VALID:[a-z0-9_]+]] = arith.andi
// CANON:     %[[SM:[a-z0-9_]+]] = arith.select %[[VALID]], %[[S]], %{{.*}} : vector<64xi1>, vector<64xf32>
// CANON:     %[[MN:[a-z0-9_]+]] = arith.maximumf %[[M]], %[[SM]] : vector<64xf32>
// CANON:     %[[DM:[a-z0-9_]+]] = arith.subf %[[M]], %[[MN]]
// CANON:     %[[CORR:[a-z0-9_]+]] = math.exp %[[DM]] : vector<64xf32>
// CANON:     %[[DS:[a-z0-9_]+]] = arith.subf %[[SM]], %[[MN]]
// CANON:     %[[P:[a-z0-9_]+]] = math.exp %[[DS]] : vector<64xf32>
// CANON:     %[[LN:[a-z0-9_]+]] = vector.fma %[[L]], %[[CORR]], %[[P]]
// CANON:     %[[ACCN:[a-z0-9_]+]] = scf.for %[[DV:[a-z0-9_]+]] = {{.*}} iter_args(%[[A:[a-z0-9_]+]] = %[[ACC]])
// CANON:       %[[ROW:[a-z0-9_]+]] = vector.transfer_read %[[A]][%[[DV]], %{{.*}}]
// CANON:       %[[PV:[a-z0-9_]+]] = arith.mulf %[[P]], %{{.*}} : vector<64xf32>
// CANON:       %[[NEW:[a-z0-9_]+]] = vector.fma %[[ROW]], %[[CORR]], %[[PV]]
// CANON:       vector.transfer_write %[[NEW]], %[[A]][%[[DV]], %{{.*}}]
// CANON:     scf.yield %[[ACCN]], %[[MN]], %[[LN]]
// CANON:   arith.cmpf ogt, %[[LOOP]]#1
// CANON:   arith.divf %{{.*}}, %[[LOOP]]#2
// CANON:   scf.for {{.*}} -> (tensor<1x?x1x8xf32>)
// CANON:     vector.transfer_read %[[LOOP]]#0
// CANON:   tensor.parallel_insert_slice {{.*}} into %[[O]][0, %[[I0]], %[[H]], 0]
func.func @attention(%q: tensor<1x?x4x8xf32>, %k: tensor<1x?x2x8xf32>, %o_out: tensor<1x?x4x8xf32>) -> tensor<1x?x4x8xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<1x?x4x8xf32>) k(%k : tensor<1x?x2x8xf32>)
      v(%k : tensor<1x?x2x8xf32>) window 16 outs(%o_out : tensor<1x?x4x8xf32>) -> tensor<1x?x4x8xf32>
  return %o : tensor<1x?x4x8xf32>
}

// -----

// A decode step (one query against a cache): one query per task, the
// online softmax on scalars.
// CHECK-LABEL: func.func @attention_step
// CHECK: scf.forall ({{.*}}) in ({{.*}}, {{.*}}, {{.*}})
// CHECK: scf.for {{.*}} -> (f32, f32, vector<8xf32>)
// CHECK: vector.reduction <add>
// CHECK: arith.maximumf {{.*}} : f32
func.func @attention_step(%q: tensor<1x1x4x8xf32>, %k: tensor<1x?x2x8xf32>, %o_out: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = hybrid.windowed_attention q(%q : tensor<1x1x4x8xf32>) k(%k : tensor<1x?x2x8xf32>)
      v(%k : tensor<1x?x2x8xf32>) window 16 outs(%o_out : tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
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
func.func @conv(%x: tensor<1x?x8xf32>, %w: tensor<4x8xf32>, %s: tensor<1x3x8xf32>, %y_out: tensor<1x?x8xf32>)
    -> (tensor<1x?x8xf32>, tensor<1x3x8xf32>) {
  %y, %t = hybrid.causal_conv1d x(%x : tensor<1x?x8xf32>) weight(%w : tensor<4x8xf32>)
      init(%s : tensor<1x3x8xf32>) activation silu outs(%y_out : tensor<1x?x8xf32>) -> tensor<1x?x8xf32>, tensor<1x3x8xf32>
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
func.func @lengths(%x: tensor<2x?x8xf32>, %a: tensor<8xf32>, %n: tensor<2xi32>, %s_init: tensor<2x8xf32>, %h_out: tensor<2x?x8xf32>)
    -> (tensor<2x?x8xf32>, tensor<2x8xf32>) {
  %h, %s = hybrid.rg_lru x(%x : tensor<2x?x8xf32>) gate_x(%x : tensor<2x?x8xf32>)
      gate_a(%x : tensor<2x?x8xf32>) a_param(%a : tensor<8xf32>)
      init(%s_init : tensor<2x8xf32>) lengths(%n : tensor<2xi32>) outs(%h_out : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>, tensor<2x8xf32>
  return %h, %s : tensor<2x?x8xf32>, tensor<2x8xf32>
}
func.func @conv_lengths(%x: tensor<2x?x8xf32>, %w: tensor<4x8xf32>, %n: tensor<2xindex>, %t_init: tensor<2x3x8xf32>, %y_out: tensor<2x?x8xf32>)
    -> (tensor<2x?x8xf32>, tensor<2x3x8xf32>) {
  %y, %t = hybrid.causal_conv1d x(%x : tensor<2x?x8xf32>) weight(%w : tensor<4x8xf32>)
      init(%t_init : tensor<2x3x8xf32>) lengths(%n : tensor<2xindex>) outs(%y_out : tensor<2x?x8xf32>) -> tensor<2x?x8xf32>, tensor<2x3x8xf32>
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
func.func @parallel(%n: tensor<1x4x8xf32>, %g: tensor<1x4x8xf32>, %r_out: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %o = hybrid.gated_parallel(%n, %g) : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> (tensor<1x4x8xf32>)
    backbone {
    ^bb0(%x: tensor<1x4x8xf32>):
      hybrid.yield %x : tensor<1x4x8xf32>
    } attention {
    ^bb0(%x: tensor<1x4x8xf32>):
      %r = hybrid.rms_norm %x outs(%r_out : tensor<1x4x8xf32>) : tensor<1x4x8xf32> -> tensor<1x4x8xf32>
      hybrid.yield %r : tensor<1x4x8xf32>
    }
  return %o : tensor<1x4x8xf32>
}

// -----

// RWKV-6: one task per head (8 value rows as lanes). The transposed state
// tile [K x lanes] is filled column by column from the initial state (a
// function argument: the caller's buffer, read there, while the final state
// goes to a fresh tensor),
// carried through time, and per key row k decayed by exp(log_decay[k])
// (computed as one vector per step into a scratch, read back per row) and
// updated by k[k] · v while S·r accumulates from the rows before the
// update; the read-out adds v (u · (k ⊙ r)); the final tile is written back
// column by column.
// CANON-LABEL: func.func @wkv
// CANON-SAME: %[[R:[a-z0-9]+]]: tensor<1x?x2x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x?x2x8xf32>, %[[U:[a-z0-9]+]]: tensor<2x16xf32>, %[[S0:[a-z0-9]+]]: tensor<1x2x8x16xf32>
// CANON: scf.forall (%[[H:[a-z0-9_]+]]) in (2) shared_outs(%[[O:[a-z0-9_]+]] = %{{.*}}, %[[SO:[a-z0-9_]+]] = %{{.*}})
// CANON:   %[[INIT:[a-z0-9_]+]] = scf.for %[[K0:[a-z0-9_]+]] = {{.*}} iter_args(%[[TI:[a-z0-9_]+]] = %{{.*}}) -> (tensor<16x8xf32>)
// CANON:     %[[COL:[a-z0-9_]+]] = vector.transfer_read %[[S0]][%{{.*}}, %[[H]], %{{.*}}, %[[K0]]]{{.*}}permutation_map
// CANON:     vector.transfer_write %[[COL]], %[[TI]][%[[K0]], %{{.*}}]
// CANON:   %[[LOOP:[a-z0-9_]+]]:3 = scf.for %[[T:[a-z0-9_]+]] = {{.*}} iter_args(%[[S:[a-z0-9_]+]] = %[[INIT]], %{{.*}} = %{{.*}}, %[[SCR:[a-z0-9_]+]] = %{{.*}}) -> (tensor<16x8xf32>, tensor<1x?x1x8xf32>, tensor<16xf32>)
// CANON:     %[[RK:[a-z0-9_]+]] = vector.transfer_read %[[R]][%{{.*}}, %[[T]], %[[H]], %{{.*}}]
// CANON:     %[[WV:[a-z0-9_]+]] = math.exp %[[RK]] : vector<16xf32>
// CANON:     %[[W:[a-z0-9_]+]] = vector.transfer_write %[[WV]], %[[SCR]]
// CANON:     %[[VT:[a-z0-9_]+]] = vector.transfer_read %[[V]][%{{.*}}, %[[T]], %[[H]], %{{.*}}]{{.*}} vector<8xf32>
// CANON:     vector.transfer_read %[[U]][%[[H]], %{{.*}}]
// CANON:     %[[BONUS:[a-z0-9_]+]] = vector.reduction <add>
// CANON:     %[[KEYS:[a-z0-9_]+]]:2 = scf.for %[[KK:[a-z0-9_]+]] = {{.*}} iter_args(%[[ST:[a-z0-9_]+]] = %[[S]], %[[ACC:[a-z0-9_]+]] = %{{.*}}) -> (tensor<16x8xf32>, vector<8xf32>)
// CANON:       %[[ROW:[a-z0-9_]+]] = vector.transfer_read %[[ST]][%[[KK]], %{{.*}}]
// CANON:       %[[RS:[a-z0-9_]+]] = tensor.extract %[[R]][%{{.*}}, %[[T]], %[[H]], %[[KK]]]
// CANON:       %[[RB:[a-z0-9_]+]] = vector.broadcast %[[RS]]
// CANON:       %[[SR:[a-z0-9_]+]] = vector.fma %[[ROW]], %[[RB]], %[[ACC]]
// CANON:       %[[WK:[a-z0-9_]+]] = tensor.extract %[[W]][%[[KK]]]
// CANON:       %[[WB:[a-z0-9_]+]] = vector.broadcast %[[WK]]
// CANON:       %[[KV:[a-z0-9_]+]] = arith.mulf %[[RB]], %[[VT]]
// CANON:       %[[NEW:[a-z0-9_]+]] = vector.fma %[[ROW]], %[[WB]], %[[KV]]
// CANON:       %[[ST2:[a-z0-9_]+]] = vector.transfer_write %[[NEW]], %[[ST]][%[[KK]], %{{.*}}]
// CANON:       scf.yield %[[ST2]], %[[SR]]
// CANON:     %[[BB:[a-z0-9_]+]] = vector.broadcast %[[BONUS]]
// CANON:     %[[OUT:[a-z0-9_]+]] = vector.fma %[[VT]], %[[BB]], %[[KEYS]]#1
// CANON:     vector.transfer_write %[[OUT]], %{{.*}}[%{{.*}}, %[[T]], %{{.*}}, %{{.*}}]
// CANON:     scf.yield %[[KEYS]]#0, %{{.*}}, %[[W]] : tensor<16x8xf32>, tensor<1x?x1x8xf32>, tensor<16xf32>
// CANON:   scf.for %[[K1:[a-z0-9_]+]] = {{.*}} -> (tensor<1x1x8x16xf32>)
// CANON:     %[[FROW:[a-z0-9_]+]] = vector.transfer_read %[[LOOP]]#0[%[[K1]], %{{.*}}]
// CANON:     vector.transfer_write %[[FROW]], %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[K1]]]{{.*}}permutation_map
// CANON:   tensor.parallel_insert_slice %[[LOOP]]#1 into %[[O]]
func.func @wkv(%r: tensor<1x?x2x16xf32>, %v: tensor<1x?x2x8xf32>, %u: tensor<2x16xf32>, %s0: tensor<1x2x8x16xf32>, %o_out: tensor<1x?x2x8xf32>)
    -> (tensor<1x?x2x8xf32>, tensor<1x2x8x16xf32>) {
  %o, %s = hybrid.wkv rwkv6 r(%r : tensor<1x?x2x16xf32>) k(%r : tensor<1x?x2x16xf32>) v(%v : tensor<1x?x2x8xf32>)
      log_decay(%r : tensor<1x?x2x16xf32>) bonus(%u : tensor<2x16xf32>) init(%s0 : tensor<1x2x8x16xf32>) outs(%o_out : tensor<1x?x2x8xf32>)
      -> tensor<1x?x2x8xf32>, tensor<1x2x8x16xf32>
  return %o, %s : tensor<1x?x2x8xf32>, tensor<1x2x8x16xf32>
}

// -----

// RG-LRU: the state vector<8> (zeros: no initial state) through time; the
// reset mask selects a = 0, m = 1 where set; h = a h + m (gx x).
// CANON-LABEL: func.func @rg_lru
// CANON-SAME: %[[X:[a-z0-9]+]]: tensor<2x?x12xf32>, %{{[a-z0-9]+}}: tensor<12xf32>, %[[RST:[a-z0-9]+]]: tensor<2x?xi1>
// CANON: scf.forall (%[[B:[a-z0-9_]+]], %{{.*}}) in (2, 2)
// CANON:   %[[LOOP:[a-z0-9_]+]]:2 = scf.for %[[T:[a-z0-9_]+]] = {{.*}} iter_args(%[[H:[a-z0-9_]+]] = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<8xf32>, tensor<1x?x?xf32>)
// CANON:     %[[R:[a-z0-9_]+]] = tensor.extract %[[RST]][%[[B]], %[[T]]] : tensor<2x?xi1>
// CANON:     %[[A:[a-z0-9_]+]] = arith.select %[[R]], %{{.*}}, %{{.*}} : vector<8xf32>
// CANON:     %[[M:[a-z0-9_]+]] = arith.select %[[R]], %{{.*}}, %{{.*}} : vector<8xf32>
// CANON:     %[[AH:[a-z0-9_]+]] = arith.mulf %[[A]], %[[H]] : vector<8xf32>
// CANON:     %[[HN:[a-z0-9_]+]] = arith.addf %[[AH]], %{{.*}} : vector<8xf32>
// CANON:     scf.yield %[[HN]], %{{.*}}
// CANON:   vector.transfer_write %[[LOOP]]#0
func.func @rg_lru(%x: tensor<2x?x12xf32>, %l: tensor<12xf32>, %r: tensor<2x?xi1>, %s_init: tensor<2x12xf32>, %h_out: tensor<2x?x12xf32>) -> (tensor<2x?x12xf32>, tensor<2x12xf32>) {
  %h, %s = hybrid.rg_lru x(%x : tensor<2x?x12xf32>) gate_x(%x : tensor<2x?x12xf32>) gate_a(%x : tensor<2x?x12xf32>)
      a_param(%l : tensor<12xf32>) reset(%r : tensor<2x?xi1>) init(%s_init : tensor<2x12xf32>) outs(%h_out : tensor<2x?x12xf32>) -> tensor<2x?x12xf32>, tensor<2x12xf32>
  return %h, %s : tensor<2x?x12xf32>, tensor<2x12xf32>
}

// -----

// GRU: one task per sequence; the state (a copy of its initial state) is a
// tensor carried through time; per step hh = h W_h in 8-lane column tiles
// (an inner loop of FMAs over h), then the gates update h in place.
// CANON-LABEL: func.func @gru
// CANON-SAME: %[[XG:[a-z0-9]+]]: tensor<2x?x48xf32>, %[[WH:[a-z0-9]+]]: tensor<16x48xf32>
// CANON: scf.forall (%[[B:[a-z0-9_]+]]) in (2) shared_outs(%[[HO:[a-z0-9_]+]] = %{{.*}}, %[[SO:[a-z0-9_]+]] = %{{.*}})
// CANON:   %[[LOOP:[a-z0-9_]+]]:3 = scf.for %[[T:[a-z0-9_]+]] = {{.*}} iter_args(%[[H:[a-z0-9_]+]] = %{{.*}}, %[[HH:[a-z0-9_]+]] = %{{.*}}, %{{.*}} = %{{.*}}) -> (tensor<16xf32>, tensor<?xf32>, tensor<1x?x16xf32>)
// CANON:     %[[COLS:[a-z0-9_]+]] = scf.for %[[J:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %[[HH]]) -> (tensor<?xf32>)
// CANON:       scf.for %[[I:[a-z0-9_]+]] = {{.*}} -> (vector<8xf32>)
// CANON:         tensor.extract %[[H]][%[[I]]] : tensor<16xf32>
// CANON:         vector.transfer_read %[[WH]][%[[I]], %[[J]]]
// CANON:         math.fma
// CANON:     %[[UPD:[a-z0-9_]+]]:2 = scf.for %{{.*}} iter_args(%{{.*}} = %[[H]], %{{.*}} = %{{.*}}) -> (tensor<16xf32>, tensor<1x?x16xf32>)
// CANON:       vector.transfer_read %[[XG]][%[[B]], %[[T]], %{{.*}}]
// CANON:       math.tanh
// CANON:     scf.yield %[[UPD]]#0, %[[COLS]], %[[UPD]]#1
// CANON:   tensor.parallel_insert_slice %[[LOOP]]#2 into %[[HO]]
// CANON:   tensor.parallel_insert_slice %[[LOOP]]#0 into %[[SO]][%[[B]], 0] [1, 16]
func.func @gru(%xg: tensor<2x?x48xf32>, %wh: tensor<16x48xf32>, %h0: tensor<2x16xf32>, %h_out: tensor<2x?x16xf32>) -> (tensor<2x?x16xf32>, tensor<2x16xf32>) {
  %h, %s = hybrid.gru input_gates(%xg : tensor<2x?x48xf32>) hidden_weight(%wh : tensor<16x48xf32>) init(%h0 : tensor<2x16xf32>) outs(%h_out : tensor<2x?x16xf32>)
      -> tensor<2x?x16xf32>, tensor<2x16xf32>
  return %h, %s : tensor<2x?x16xf32>, tensor<2x16xf32>
}

// -----

// Norms: the row mean (layer_norm only) and the mean of squares as
// reductions over the last dim, then the normalisation with rsqrt(v + eps)
// and the weight (and bias).
// CANON-LABEL: func.func @norms
// CANON-SAME: %[[X:[a-z0-9]+]]: tensor<2x?x64xf32>, %[[W:[a-z0-9]+]]: tensor<64xf32>
// CANON: %[[SUM:[a-z0-9_]+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x?x64xf32>)
// CANON: %[[MEAN:[a-z0-9_]+]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<2x?xf32>)
// CANON: %[[SQ:[a-z0-9_]+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[MEAN]] : tensor<2x?x64xf32>, tensor<2x?xf32>)
// CANON: %[[VAR:[a-z0-9_]+]] = linalg.generic {{.*}} ins(%[[SQ]] : tensor<2x?xf32>)
// CANON: linalg.generic {{.*}} ins(%[[X]], %[[VAR]], %[[MEAN]], %[[W]], %[[W]] :
// CANON:   math.rsqrt
// CANON: %[[SQ2:[a-z0-9_]+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x?x64xf32>)
// CANON: %[[MS:[a-z0-9_]+]] = linalg.generic {{.*}} ins(%[[SQ2]] : tensor<2x?xf32>)
// CANON: linalg.generic {{.*}} ins(%[[X]], %[[MS]], %[[W]] :
// CANON:   math.rsqrt
func.func @norms(%x: tensor<2x?x64xf32>, %w: tensor<64xf32>, %a_out: tensor<2x?x64xf32>, %b_out: tensor<2x?x64xf32>) -> (tensor<2x?x64xf32>, tensor<2x?x64xf32>) {
  %a = hybrid.layer_norm %x weight(%w : tensor<64xf32>) bias(%w : tensor<64xf32>) epsilon 1.0e-6 outs(%a_out : tensor<2x?x64xf32>) : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
  %b = hybrid.rms_norm %x weight(%w : tensor<64xf32>) outs(%b_out : tensor<2x?x64xf32>) : tensor<2x?x64xf32> -> tensor<2x?x64xf32>
  return %a, %b : tensor<2x?x64xf32>, tensor<2x?x64xf32>
}

// -----

// An op already tiled by hybrid-tile (inside an scf.forall): its own task
// loops run sequentially inside the tile (scf.for, no nested scf.forall).
// CANON-LABEL: func.func @tiled
// CANON: scf.forall (%[[C:[a-z0-9_]+]]) in (4)
// CANON-NOT: scf.forall
// CANON:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CANON:     scf.for %{{.*}} -> (vector<8xf32>, tensor<1x?x?xf32>)
// CANON: scf.forall.in_parallel
func.func @tiled(%x: tensor<1x?x64xf32>, %l: tensor<64xf32>, %s_init: tensor<1x16xf32>, %h_out: tensor<1x?x16xf32>) -> tensor<1x?x64xf32> {
  %c1 = arith.constant 1 : index
  %t = tensor.dim %x, %c1 : tensor<1x?x64xf32>
  %e = tensor.empty(%t) : tensor<1x?x64xf32>
  %r = scf.forall (%i) in (4) shared_outs(%out = %e) -> (tensor<1x?x64xf32>) {
    %c0 = affine.apply affine_map<(d0) -> (d0 * 16)>(%i)
    %xs = tensor.extract_slice %x[0, 0, %c0] [1, %t, 16] [1, 1, 1] : tensor<1x?x64xf32> to tensor<1x?x16xf32>
    %ls = tensor.extract_slice %l[%c0] [16] [1] : tensor<64xf32> to tensor<16xf32>
    %h, %s = hybrid.rg_lru x(%xs : tensor<1x?x16xf32>) gate_x(%xs : tensor<1x?x16xf32>) gate_a(%xs : tensor<1x?x16xf32>)
        a_param(%ls : tensor<16xf32>) init(%s_init : tensor<1x16xf32>) outs(%h_out : tensor<1x?x16xf32>) -> tensor<1x?x16xf32>, tensor<1x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %h into %out[0, 0, %c0] [1, %t, 16] [1, 1, 1] : tensor<1x?x16xf32> into tensor<1x?x64xf32>
    }
  }
  return %r : tensor<1x?x64xf32>
}

// -----

// Destination style in the lowering: a zero initial state made in the
// function, or an argument the caller lets be written, is the final state's
// destination, updated in place: it becomes the forall's shared output and
// each task reads its initial tile from there.
// CHECK-LABEL: func.func @state_in_place
// CHECK: %[[FILL:.*]] = linalg.fill
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %{{.*}}, %[[SO:[a-z0-9_]+]] = %[[FILL]])
// CHECK:   vector.transfer_read %[[SO]]
// CHECK-LABEL: func.func @state_donated
// CHECK-SAME: %[[S0:[a-z0-9_]+]]: tensor<2x16xf32> {bufferization.writable = true}
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %{{.*}}, %[[SO:[a-z0-9_]+]] = %[[S0]])
// CHECK:   vector.transfer_read %[[SO]]
func.func @state_in_place(%x: tensor<2x5x16xf32>, %la: tensor<2x5x16xf32>) -> tensor<2x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x16xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e : tensor<2x16xf32>) -> tensor<2x16xf32>
  %o = tensor.empty() : tensor<2x5x16xf32>
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x16xf32>) log_a(%la : tensor<2x5x16xf32>)
      init(%s0 : tensor<2x16xf32>) outs(%o : tensor<2x5x16xf32>)
      -> tensor<2x5x16xf32>, tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}
func.func @state_donated(%x: tensor<2x5x16xf32>, %la: tensor<2x5x16xf32>,
    %s0: tensor<2x16xf32> {bufferization.writable = true}) -> tensor<2x16xf32> {
  %o = tensor.empty() : tensor<2x5x16xf32>
  %h, %s = hybrid.rg_lru x(%x : tensor<2x5x16xf32>) log_a(%la : tensor<2x5x16xf32>)
      init(%s0 : tensor<2x16xf32>) outs(%o : tensor<2x5x16xf32>)
      -> tensor<2x5x16xf32>, tensor<2x16xf32>
  return %s : tensor<2x16xf32>
}
