// RUN: hybrid-opt %s --hybrid-export-functions | FileCheck %s

// Tensor results become trailing memref out-parameters; the function returns
// nothing and has a C interface.
// CHECK-LABEL: func.func @f(
// CHECK-SAME: %[[X:.*]]: tensor<?x4xf32>, %[[O0:.*]]: memref<?x4xf32> {hybrid.weight = "output0"}, %[[O1:.*]]: memref<4xf32> {hybrid.weight = "output1"})
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[O0]]
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[O1]]
// CHECK-NEXT: return
// CHECK-NOT: -> tensor
func.func @f(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<4xf32>) {
  %c = arith.constant dense<1.0> : tensor<4xf32>
  return %x, %c : tensor<?x4xf32>, tensor<4xf32>
}

// Private functions keep their signature.
// CHECK-LABEL: func.func private @g(%{{.*}}: tensor<4xf32>) -> tensor<4xf32>
func.func private @g(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
