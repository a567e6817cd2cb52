// RUN: hybrid-opt %s --hybrid-lower-to-loops --canonicalize --cse -split-input-file | FileCheck %s
// RUN: hybrid-opt %s --hybrid-lower-to-loops=parallel-loops=true --canonicalize --cse -split-input-file | FileCheck %s --check-prefix=PAR

// With parallel-loops, the leading parallel loops of the domain are one
// scf.parallel (a GPU thread each), the time loop an scf.for inside it, and
// a scratch vector is per iteration of the parallel loop.
// PAR-LABEL: func.func @ssm_scan
// PAR: scf.parallel (%[[B:.*]], %[[C:.*]]) = (%c0, %c0) to (%c2, %c8) step (%c1, %c1) {
// PAR:   scf.for %[[T:.*]] = %c0 to
// PAR:     memref.store %{{.*}}, %{{.*}}[%[[B]], %[[C]], %{{.*}}] : memref<2x8x4xf32>
// PAR-LABEL: func.func @gru
// PAR: scf.parallel (%[[GB:.*]]) = (%c0) to (%c2) step (%c1) {
// PAR:   %[[NEW:.*]] = memref.alloc() : memref<4xf32>
// PAR:   scf.for
// PAR:   memref.dealloc %[[NEW]]
// PAR:   scf.reduce
// PAR-LABEL: func.func @rms_norm
// PAR: scf.parallel (%{{.*}}) = (%c0) to (%c3) step (%c1) {
// PAR:   scf.for %{{.*}} = %c0 to %c8

// ssm_scan: loops (batch, channel, time), time innermost; the state slice
// [b, c, :] is read and written in place in the initial state's buffer,
// and positions past a sequence's length write zeros and leave it alone.
// CHECK-LABEL: func.func @ssm_scan
// CHECK-SAME: %[[U:[a-z0-9]+]]: memref<2x?x8xf32>, %[[A:[a-z0-9]+]]: memref<8x4xf32>, %[[BC:[a-z0-9]+]]: memref<2x?x4xf32>, %[[H:[a-z0-9]+]]: memref<2x8x4xf32>, %[[LEN:[a-z0-9]+]]: memref<2xi32>, %[[Y:[a-z0-9]+]]: memref<2x?x8xf32>
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[T:.*]] = memref.dim %[[U]], %c1
// CHECK: scf.for %[[B:.*]] = %c0 to %c2
// CHECK:   scf.for %[[C:.*]] = %c0 to %c8
// CHECK:     scf.for %[[TI:.*]] = %c0 to %[[T]]
// CHECK:       %[[L:.*]] = memref.load %[[LEN]][%[[B]]]
// CHECK:       %[[LI:.*]] = arith.index_cast %[[L]] : i32 to index
// CHECK:       %[[ACTIVE:.*]] = arith.cmpi slt, %[[TI]], %[[LI]]
// CHECK:       scf.if %[[ACTIVE]] {
// CHECK:         %[[UT:.*]] = memref.load %[[U]][%[[B]], %[[TI]], %[[C]]]
// CHECK:         %[[Y_T:.*]] = scf.for %[[N:.*]] = %c0 to %c4 {{.*}} iter_args(%[[ACC:.*]] = %[[ZERO]])
// CHECK:           %[[DECAY:.*]] = math.exp
// CHECK:           %[[HOLD:.*]] = memref.load %[[H]][%[[B]], %[[C]], %[[N]]]
// CHECK:           %[[KEEP:.*]] = arith.mulf %[[DECAY]], %[[HOLD]]
// CHECK:           %[[HNEW:.*]] = arith.addf %{{.*}}, %[[KEEP]]
// CHECK:           memref.store %[[HNEW]], %[[H]][%[[B]], %[[C]], %[[N]]]
// CHECK:           %[[CN:.*]] = memref.load %[[BC]][%[[B]], %[[TI]], %[[N]]]
// CHECK:           %[[READ:.*]] = arith.mulf %[[HNEW]], %[[CN]]
// CHECK:           %[[SUM:.*]] = arith.addf %[[ACC]], %[[READ]]
// CHECK:           scf.yield %[[SUM]]
// CHECK:         memref.store %[[Y_T]], %[[Y]][%[[B]], %[[TI]], %[[C]]]
// CHECK:       } else {
// CHECK:         memref.store %[[ZERO]], %[[Y]][%[[B]], %[[TI]], %[[C]]]
// CHECK-NOT: hybrid.
func.func @ssm_scan(%u: memref<2x?x8xf32>, %A: memref<8x4xf32>, %B: memref<2x?x4xf32>,
    %h: memref<2x8x4xf32>, %len: memref<2xi32>, %y: memref<2x?x8xf32>) {
  hybrid.ssm_scan u(%u : memref<2x?x8xf32>) delta(%u : memref<2x?x8xf32>) A(%A : memref<8x4xf32>)
      B(%B : memref<2x?x4xf32>) C(%B : memref<2x?x4xf32>) init(%h : memref<2x8x4xf32>)
      lengths(%len : memref<2xi32>) outs(%y : memref<2x?x8xf32>)
  return
}

// -----

// causal_conv1d on f16 activations: taps 0..2 read the tail, tap 3 the
// current input (extended to f32); the output is truncated back to f16;
// then the tail drops its oldest input and appends the current one.
// CHECK-LABEL: func.func @conv
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<1x?x8xf16>, %[[W:[a-z0-9]+]]: memref<4x8xf32>, %[[TAIL:[a-z0-9]+]]: memref<1x3x8xf32>, %[[Y:[a-z0-9]+]]: memref<1x?x8xf16>
// CHECK: scf.for %[[C:.*]] = %c0 to %c8
// CHECK:   scf.for %[[TI:.*]] = %c0 to
// CHECK:     %[[XH:.*]] = memref.load %[[X]][%c0, %[[TI]], %[[C]]]
// CHECK:     %[[XT:.*]] = arith.extf %[[XH]] : f16 to f32
// CHECK:     %[[PAST:.*]] = scf.for %[[J:.*]] = %c0 to %c3 {{.*}} iter_args(%[[ACC:.*]] = %{{.*}})
// CHECK:       %[[WJ:.*]] = memref.load %[[W]][%[[J]], %[[C]]]
// CHECK:       %[[SJ:.*]] = memref.load %[[TAIL]][%c0, %[[J]], %[[C]]]
// CHECK:       %[[P:.*]] = arith.mulf %[[WJ]], %[[SJ]]
// CHECK:       arith.addf %[[ACC]], %[[P]]
// CHECK:     %[[W3:.*]] = memref.load %[[W]][%c3, %[[C]]]
// CHECK:     %[[CUR:.*]] = arith.mulf %[[W3]], %[[XT]]
// CHECK:     %[[YT:.*]] = arith.addf %{{.*}}, %[[CUR]]
// CHECK:     %[[YH:.*]] = arith.truncf %[[YT]] : f32 to f16
// CHECK:     memref.store %[[YH]], %[[Y]][%c0, %[[TI]], %[[C]]]
// CHECK:     scf.for %[[J2:.*]] = %c1 to %c3
// CHECK:       %[[NEXT:.*]] = memref.load %[[TAIL]][%c0, %[[J2]], %[[C]]]
// CHECK:       %[[PREV:.*]] = arith.subi %[[J2]], %c1
// CHECK:       memref.store %[[NEXT]], %[[TAIL]][%c0, %[[PREV]], %[[C]]]
// CHECK:     memref.store %[[XT]], %[[TAIL]][%c0, %c2, %[[C]]]
func.func @conv(%x: memref<1x?x8xf16>, %w: memref<4x8xf32>, %t: memref<1x3x8xf32>, %y: memref<1x?x8xf16>) {
  hybrid.causal_conv1d x(%x : memref<1x?x8xf16>) weight(%w : memref<4x8xf32>)
      init(%t : memref<1x3x8xf32>) outs(%y : memref<1x?x8xf16>)
  return
}

// -----

// gru: loops (batch, time); every new h_j reads all of h[t-1], so the new
// state goes to a scratch vector (allocated once around the loops) and
// then over the state and into the output.
// CHECK-LABEL: func.func @gru
// CHECK-SAME: %[[G:[a-z0-9]+]]: memref<2x?x12xf32>, %[[WH:[a-z0-9]+]]: memref<4x12xf32>, %[[H:[a-z0-9]+]]: memref<2x4xf32>, %[[OUT:[a-z0-9]+]]: memref<2x?x4xf32>
// CHECK: %[[NEW:.*]] = memref.alloc() : memref<4xf32>
// CHECK: scf.for %[[B:.*]] = %c0 to %c2
// CHECK:   scf.for %[[TI:.*]] = %c0 to
// CHECK:     scf.for %[[J:.*]] = %c0 to %c4
// CHECK:       %[[HH:.*]]:3 = scf.for %[[K:.*]] = %c0 to %c4
// CHECK:         memref.load %[[H]][%[[B]], %[[K]]]
// CHECK:       %[[HJ:.*]] = memref.load %[[H]][%[[B]], %[[J]]]
// CHECK:       memref.store %{{.*}}, %[[NEW]][%[[J]]]
// CHECK:     scf.for %[[J3:.*]] = %c0 to %c4
// CHECK:       %[[V:.*]] = memref.load %[[NEW]][%[[J3]]]
// CHECK:       memref.store %[[V]], %[[H]][%[[B]], %[[J3]]]
// CHECK:       memref.store %[[V]], %[[OUT]][%[[B]], %[[TI]], %[[J3]]]
// CHECK: memref.dealloc %[[NEW]]
func.func @gru(%g: memref<2x?x12xf32>, %wh: memref<4x12xf32>, %h: memref<2x4xf32>, %out: memref<2x?x4xf32>) {
  hybrid.gru input_gates(%g : memref<2x?x12xf32>) hidden_weight(%wh : memref<4x12xf32>)
      init(%h : memref<2x4xf32>) outs(%out : memref<2x?x4xf32>)
  return
}

// -----

// A norm's feature dimension is its domain's reduction loop: the whole row
// is normalised at feature 0, the other indices do nothing.
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<3x8xf32>, %[[OUT:[a-z0-9]+]]: memref<3x8xf32>
// CHECK: scf.for %[[R:.*]] = %c0 to %c3
// CHECK:   scf.for %[[F:.*]] = %c0 to %c8
// CHECK:     %[[FIRST:.*]] = arith.cmpi eq, %[[F]], %c0
// CHECK:     scf.if %[[FIRST]] {
// CHECK:       %[[SS:.*]] = scf.for
// CHECK:       %[[MS:.*]] = arith.divf %[[SS]], %{{.*}}
// CHECK:       %[[VE:.*]] = arith.addf %[[MS]], %{{.*}}
// CHECK:       %[[RMS:.*]] = math.sqrt %[[VE]]
// CHECK:       %[[INV:.*]] = arith.divf %{{.*}}, %[[RMS]]
// CHECK:       scf.for %[[F2:.*]] = %c0 to %c8
// CHECK:         %[[XF:.*]] = memref.load %[[X]][%[[R]], %[[F2]]]
// CHECK:         memref.store %{{.*}}, %[[OUT]][%[[R]], %[[F2]]]
func.func @rms_norm(%x: memref<3x8xf32>, %out: memref<3x8xf32>) {
  hybrid.rms_norm %x outs(%out : memref<3x8xf32>) : memref<3x8xf32>
  return
}

// -----

// The tensor form is left alone: bufferize first.
// CHECK-LABEL: func.func @tensor_form
// CHECK: hybrid.rms_norm %{{.*}} outs(%{{.*}} : tensor<3x8xf32>) : tensor<3x8xf32> -> tensor<3x8xf32>
// CHECK-NOT: scf.for
func.func @tensor_form(%x: tensor<3x8xf32>, %out: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %r = hybrid.rms_norm %x outs(%out : tensor<3x8xf32>) : tensor<3x8xf32> -> tensor<3x8xf32>
  return %r : tensor<3x8xf32>
}
