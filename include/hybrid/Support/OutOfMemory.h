//===- OutOfMemory.h - Tools report running out of memory -------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The tools are built without exceptions, like LLVM: a failed allocation
// would abort with a crash report. After InitLLVM, a tool calls
// installOutOfMemoryExit so that it prints one line and exits with 1.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_SUPPORT_OUTOFMEMORY_H
#define HYBRID_SUPPORT_OUTOFMEMORY_H

#include "llvm/Support/ErrorHandling.h"

#include <cstdio>
#include <cstdlib>
#include <new>

namespace mlir::hybrid {

namespace detail {
inline const char *&outOfMemoryTool() {
  static const char *tool = "hybrid";
  return tool;
}
[[noreturn]] inline void exitOutOfMemory() {
  // No allocation here: write straight to stderr.
  std::fputs(outOfMemoryTool(), stderr);
  std::fputs(": error: out of memory (the model, its inputs or its compiled "
             "code do not fit in this machine's memory)\n",
             stderr);
  std::_Exit(1);
}
} // namespace detail

/// Makes running out of memory (operator new, LLVM's safe_malloc) print
/// "<tool>: error: out of memory ..." and exit(1).
inline void installOutOfMemoryExit(const char *tool) {
  detail::outOfMemoryTool() = tool;
  std::set_new_handler([] { detail::exitOutOfMemory(); });
  llvm::install_bad_alloc_error_handler(
      [](void *, const char *, bool) { detail::exitOutOfMemory(); });
}

} // namespace mlir::hybrid

#endif // HYBRID_SUPPORT_OUTOFMEMORY_H
