// RUN: hybrid-opt %s --hybrid-protect-arguments | FileCheck %s

// A public function's tensor arguments become read-only, so that the rg_lru
// that writes its final state over the argument %s0 bufferizes out of place
// and the caller's %s0 is never written (test/Unit/Conversion checks the
// numbers and the untouched inputs). An argument that says it may be
// written keeps its attribute; non-tensor arguments get none.
// CHECK-LABEL: func.func @step
// CHECK-SAME: %{{.*}}: tensor<1x1x8xf32> {bufferization.writable = false}
// CHECK-SAME: %{{.*}}: tensor<1x8xf32> {bufferization.writable = false}
// CHECK-SAME: %{{.*}}: tensor<1x1x8xf32> {bufferization.writable = true}
// CHECK-SAME: %{{.*}}: index)
func.func @step(%x: tensor<1x1x8xf32>, %s0: tensor<1x8xf32>,
    %out: tensor<1x1x8xf32> {bufferization.writable = true}, %n: index)
    -> (tensor<1x1x8xf32>, tensor<1x8xf32>) {
  %h, %s = hybrid.rg_lru x(%x : tensor<1x1x8xf32>) log_a(%x : tensor<1x1x8xf32>)
      init(%s0 : tensor<1x8xf32>) outs(%out : tensor<1x1x8xf32>)
      -> tensor<1x1x8xf32>, tensor<1x8xf32>
  return %h, %s : tensor<1x1x8xf32>, tensor<1x8xf32>
}

// Private functions are left alone: one-shot bufferization sees their
// callers.
// CHECK-LABEL: func.func private @helper
// CHECK-NOT: bufferization.writable
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
