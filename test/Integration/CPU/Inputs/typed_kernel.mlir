// Functions whose arguments are not all f32 buffers: a mask of i1, int64
// positions, scalars by value, dynamic sizes. The C header gives each its C
// type and its source name.
#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
#vec = affine_map<(i) -> (i)>

// y[i, :] = mask[i] ? scale * x[i, :] : 0
func.func @masked_scale(%x: tensor<?x4xf32>, %mask: tensor<?xi1>, %scale: f32)
    -> tensor<?x4xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x4xf32>
  %e = tensor.empty(%n) : tensor<?x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %mask : tensor<?x4xf32>, tensor<?xi1>) outs(%e : tensor<?x4xf32>) {
  ^bb0(%a: f32, %m: i1, %o: f32):
    %s = arith.mulf %a, %scale : f32
    %r = arith.select %m, %s, %zero : f32
    linalg.yield %r : f32
  } -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// end[i] = lengths[i] + offset, and whether it passes `limit`.
func.func @positions(%lengths: tensor<?xi64>, %offset: index, %limit: i64)
    -> (tensor<?xi64>, tensor<?xi1>) {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %lengths, %c0 : tensor<?xi64>
  %e = tensor.empty(%n) : tensor<?xi64>
  %f = tensor.empty(%n) : tensor<?xi1>
  %off = arith.index_cast %offset : index to i64
  %end, %over = linalg.generic {indexing_maps = [#vec, #vec, #vec],
                                iterator_types = ["parallel"]}
      ins(%lengths : tensor<?xi64>) outs(%e, %f : tensor<?xi64>, tensor<?xi1>) {
  ^bb0(%l: i64, %o: i64, %p: i1):
    %s = arith.addi %l, %off : i64
    %c = arith.cmpi sgt, %s, %limit : i64
    linalg.yield %s, %c : i64, i1
  } -> (tensor<?xi64>, tensor<?xi1>)
  return %end, %over : tensor<?xi64>, tensor<?xi1>
}
