// Folding: a version's statements lowered into Ops, checked against the schema state
// they apply to, and applied to give the version's state.
//
// applyOp() is the one state transition: `alter table` statements and the diff of a
// restated table both go through it, so the state of a version is exactly what replaying
// its Ops on a database gives (new columns last, as ADD COLUMN puts them).
#pragma once

#include "compiler/AST.h"
#include "compiler/Project.h"

#include <llvm/ADT/StringMap.h>

#include <string>
#include <vector>

namespace strata::compiler {

class DiagnosticsEngine;

struct TableOwner {
  unsigned subsystem;
  SourceRange range;
};

struct FoldContext {
  DiagnosticsEngine &diags;
  const std::string &subsystem;
  const std::string &version;
  /// States of the subsystems this version requires (their lowest satisfying versions),
  /// whose tables foreign keys may reference and whose enums columns may use.
  const std::vector<const Schema *> &visible;
  const std::vector<std::string> &visibleNames;
  /// Every table name any subsystem has declared, with its owner: tables of different
  /// subsystems share one PostgreSQL schema.
  llvm::StringMap<TableOwner> &globalTables;
  unsigned subsystemIndex;
  const Project &project;
};

class Folder {
public:
  Folder(FoldContext &context, Schema start);
  ~Folder();

  /// Lowers one statement into Ops, checking and applying each.
  void lower(const Stmt &stmt);

  std::vector<Op> takeOps() { return std::move(ops); }
  Schema takeState() { return std::move(state); }

private:
  class Impl;
  FoldContext &context;
  Schema state;
  std::vector<Op> ops;
};

/// Applies a checked Op to \p schema.
void applyOp(Schema &schema, const Op &op);

/// A checksum of the version's meaning: its normalised Ops, not its text.
std::string checksumOf(const Version &version);

/// The canonical text of an Op that the checksum hashes (also handy in tests).
std::string canonicalOp(const Op &op);

} // namespace strata::compiler
