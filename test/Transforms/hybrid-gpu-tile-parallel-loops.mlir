// (No canonicalization after the pass: it would merge the nested loops
// again; the GPU pipeline maps them right away.)
// RUN: hybrid-opt %s --hybrid-gpu-tile-parallel-loops="block-size=32" | FileCheck %s

// The last dimension of an outermost parallel loop is split into blocks of
// 32 threads (static inner bounds, the tail guarded); the sequential time
// loop stays inside the thread.
// CHECK-LABEL: func.func @scan_like
// CHECK-SAME: %[[Y:[a-z0-9]+]]: memref<2x?x100xf32>
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[STEP:.*]] = arith.muli %{{.*}}, %[[C32]] : index
// CHECK: scf.parallel (%[[B0:.*]], %[[C0:.*]]) = ({{.*}}) to (%c2, %c100) step (%{{.*}}, %[[STEP]]) {
// CHECK:   scf.parallel (%[[BI:.*]], %[[I:.*]]) = ({{.*}}) to (%{{.*}}, %[[STEP]]) step
// CHECK:     %[[B:.*]] = arith.addi %[[BI]], %[[B0]]
// CHECK:     %[[C:.*]] = arith.addi %[[I]], %[[C0]]
// CHECK:     arith.cmpi ult, %{{.*}}, %c100
// CHECK:     scf.if
// CHECK:       scf.for %[[T:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:         memref.store %{{.*}}, %[[Y]][%[[B]], %[[T]], %[[C]]]
func.func @scan_like(%y: memref<2x?x100xf32>, %t: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c100 = arith.constant 100 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%b, %c) = (%c0, %c0) to (%c2, %c100) step (%c1, %c1) {
    scf.for %i = %c0 to %t step %c1 {
      memref.store %zero, %y[%b, %i, %c] : memref<2x?x100xf32>
    }
    scf.reduce
  }
  return
}

// A loop nest without a parallel loop that touches memory runs in one
// thread: wrapped in a one-iteration parallel loop, then split like the
// others.
// CHECK-LABEL: func.func @serial
// CHECK: scf.parallel (%{{.*}}) = ({{.*}}) to ({{.*}}) step
// CHECK:   scf.parallel (%{{.*}}) = ({{.*}}) to ({{.*}}) step
// CHECK:     arith.cmpi ult
// CHECK:     scf.if
// CHECK:       scf.for
// CHECK:         memref.store
func.func @serial(%y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %zero, %y[%i] : memref<8xf32>
  }
  return
}
