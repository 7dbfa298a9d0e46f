// Semantic analysis: from the AST of all files to the compiled Project.
//
// Checks declarations (subsystems, versions, parents, requirements), then folds every
// version into its Schema state by lowering its statements into Ops and applying them.
// Every problem is a diagnostic at the offending text with a note at the related
// definition; analysis goes on after an error where it can, to report all of them.
#pragma once

#include "compiler/AST.h"
#include "compiler/Project.h"

#include <llvm/ADT/ArrayRef.h>

#include <optional>

namespace strata::compiler {

class DiagnosticsEngine;

/// Returns the project, or nothing when errors were reported.
std::optional<Project> analyze(llvm::ArrayRef<const SourceFile *> files,
                               DiagnosticsEngine &diags);

} // namespace strata::compiler
