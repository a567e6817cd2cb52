// RUN: hybrid-opt %s --split-input-file --hybrid-expand-strided-copies | FileCheck %s

// A copy into a strided view (a tile of a larger state) becomes a linalg.copy
// of the same two buffers.
// CHECK-LABEL: func.func @into_tile
// CHECK-SAME: (%[[SRC:.*]]: memref<4x8xf32>, %[[DST:.*]]: memref<16x64xf32>, %[[I:.*]]: index)
// CHECK: %[[VIEW:.*]] = memref.subview %[[DST]][%[[I]], 8] [4, 8] [1, 1]
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[SRC]] : memref<4x8xf32>) outs(%[[VIEW]] : memref<4x8xf32, strided<[64, 1], offset: ?>>)
// CHECK-NEXT: return
func.func @into_tile(%src: memref<4x8xf32>, %dst: memref<16x64xf32>, %i: index) {
  %view = memref.subview %dst[%i, 8] [4, 8] [1, 1]
      : memref<16x64xf32> to memref<4x8xf32, strided<[64, 1], offset: ?>>
  memref.copy %src, %view : memref<4x8xf32> to memref<4x8xf32, strided<[64, 1], offset: ?>>
  return
}

// -----

// Out of a strided view, with dynamic sizes.
// CHECK-LABEL: func.func @from_column
// CHECK: %[[COL:.*]] = memref.subview
// CHECK: linalg.copy ins(%[[COL]] : memref<?x1xf32, strided<[?, 1], offset: ?>>) outs(%{{.*}} : memref<?x1xf32>)
func.func @from_column(%src: memref<?x?xf32>, %dst: memref<?x1xf32>, %n: index, %j: index) {
  %col = memref.subview %src[0, %j] [%n, 1] [1, 1]
      : memref<?x?xf32> to memref<?x1xf32, strided<[?, 1], offset: ?>>
  memref.copy %col, %dst : memref<?x1xf32, strided<[?, 1], offset: ?>> to memref<?x1xf32>
  return
}

// -----

// Negative: copies the LLVM lowering turns into one memcpy stay (identity
// layouts, and a static contiguous row-major view); so does an unranked copy.
// CHECK-LABEL: func.func @contiguous
// CHECK-NOT: linalg.copy
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<?x8xf32> to memref<?x8xf32>
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<2x8xf32, strided<[8, 1], offset: 16>> to memref<2x8xf32>
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<*xf32> to memref<*xf32>
// CHECK-NOT: linalg.copy
func.func @contiguous(%a: memref<?x8xf32>, %b: memref<?x8xf32>, %c: memref<4x8xf32>,
                      %d: memref<2x8xf32>, %u: memref<*xf32>, %v: memref<*xf32>) {
  memref.copy %a, %b : memref<?x8xf32> to memref<?x8xf32>
  %rows = memref.subview %c[2, 0] [2, 8] [1, 1]
      : memref<4x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 16>>
  memref.copy %rows, %d : memref<2x8xf32, strided<[8, 1], offset: 16>> to memref<2x8xf32>
  memref.copy %u, %v : memref<*xf32> to memref<*xf32>
  return
}
