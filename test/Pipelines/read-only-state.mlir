// RUN: hybrid-opt %s --hybrid-export-functions --hybrid-cpu-pipeline --mlir-print-ir-after=convert-bufferization-to-memref -o /dev/null 2>&1 | FileCheck %s

// A tiled single-token step whose initial state is the caller's read-only
// argument: each task reads its slice of the state from the argument and
// writes its slice of the final state straight into the caller's output
// buffer. Nothing is allocated and nothing is copied (before, the whole
// state was copied into a new buffer, updated there, and copied out).
// CHECK-LABEL: func.func @step
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<1x1x64xf32>, %[[A:[a-z0-9]+]]: memref<1x1x64xf32>, %[[H0:[a-z0-9]+]]: memref<1x64xf32>, %[[Y:[a-z0-9]+]]: memref<1x1x64xf32> {hybrid.weight = "output0"}, %[[H:[a-z0-9]+]]: memref<1x64xf32> {hybrid.weight = "output1"}
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK: scf.forall (%[[I:.*]]) = (0) to (64) step (16)
// CHECK-DAG: %[[H0S:.*]] = memref.subview %[[H0]][0, %[[I]]] [1, 16]
// CHECK-DAG: %[[HS:.*]] = memref.subview %[[H]][0, %[[I]]] [1, 16]
// CHECK:   scf.for
// CHECK:     vector.transfer_read %[[H0S]]
// CHECK:     %[[HSS:.*]] = memref.subview %[[HS]]
// CHECK:     vector.transfer_write %{{.*}}, %[[HSS]]
// CHECK-NOT: memref.copy
// CHECK: return
func.func @step(%x: tensor<1x1x64xf32>, %a: tensor<1x1x64xf32>, %h0: tensor<1x64xf32>)
    -> (tensor<1x1x64xf32>, tensor<1x64xf32>) {
  %e = tensor.empty() : tensor<1x1x64xf32>
  %y, %h = hybrid.rg_lru x(%x : tensor<1x1x64xf32>) log_a(%a : tensor<1x1x64xf32>)
      init(%h0 : tensor<1x64xf32>) outs(%e : tensor<1x1x64xf32>)
      {hybrid.tile_sizes = array<i64: 1, 16>} -> tensor<1x1x64xf32>, tensor<1x64xf32>
  return %y, %h : tensor<1x1x64xf32>, tensor<1x64xf32>
}
