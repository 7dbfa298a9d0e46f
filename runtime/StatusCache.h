// The status cache: what `strata status` would otherwise recompute on every run, kept in
// files under a cache directory (as clang's module cache or mypy's .mypy_cache), so that
// status on a project of 10,000 versions answers in tens of milliseconds:
//
// - the project's StatusFacts (names, versions, checksums, dependencies), keyed by a
//   SHA-256 over strata's version and every source file's path and bytes. Compiling
//   (parse + fold) is skipped when the sources are the ones the facts came from.
// - the declared state in stored form (runtime/Drift.h storedForm: the declared tables
//   and types created in a rolled-back scratch schema and read back with the Inspector),
//   keyed by a SHA-256 over the sources' key, the versions the database is at, the
//   schema, the server's server_version_num and its installed extensions: everything the
//   stored form is a function of (the DDL that creates it is a function of the sources
//   and the versions; PostgreSQL's normalisation, of the server version and of the types
//   that extensions add). Building it is the expensive part of the drift check (seconds
//   of DDL for 2,000 tables).
// - the drift result (DriftReport, less `against`, which the caller knows), under the
//   declared state's key, with the catalog fingerprint it was computed at
//   (runtime/Inspector.h catalogFingerprint) inside. A warm status computes the
//   fingerprint (one query) and reuses the result when it is equal; otherwise it reads the
//   live catalog with the Inspector and compares, as without a cache, and stores the new
//   result with the new fingerprint.
//
// A cache is only ever an optimisation: a file that is missing, unreadable, corrupt, of
// another format or written for another key is ignored (recomputed), and a failure to
// write one is ignored too. Files are written to a temporary name and renamed, so a
// reader never sees half a file, even with concurrent writers.
#pragma once

#include "compiler/Schema.h"
#include "runtime/Drift.h"
#include "runtime/StatusFacts.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>

#include <optional>
#include <string>
#include <vector>

namespace llvm {
class SourceMgr;
}

namespace strata::runtime {

/// The SHA-256 of \p parts (each length-prefixed, so that no two lists of parts collide),
/// as 64 lower-case hex digits.
std::string sha256Hex(llvm::ArrayRef<llvm::StringRef> parts);

/// The cache key of a set of sources: strata's \p toolVersion, then each buffer's name
/// (its path) and bytes, each length-prefixed so that no two different sets collide.
std::string sourcesKey(const llvm::SourceMgr &sources, llvm::StringRef toolVersion);

/// The directory of the cache: $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else
/// $HOME/.cache/strata; nothing when none of them is set.
std::optional<std::string> defaultCacheDirectory();

/// Is the cache turned off by the environment (STRATA_NO_CACHE set, and not "0" or "")?
bool cacheDisabledByEnvironment();

/// The cache files' encodings: exact for everything that takes part in comparisons (source
/// ranges, which never do, are left out). Readers return nothing on anything unexpected,
/// including trailing bytes.
std::string encodeFacts(const StatusFacts &facts);
std::optional<StatusFacts> decodeFacts(llvm::StringRef text);
std::string encodeSchema(const compiler::Schema &schema);
std::optional<compiler::Schema> decodeSchema(llvm::StringRef text);
/// A drift result and the fingerprint it was computed at (`against` is not kept).
std::string encodeDrift(llvm::StringRef fingerprint, const DriftReport &report);
/// The result, when \p text is a drift entry whose fingerprint is \p fingerprint.
std::optional<DriftReport> decodeDrift(llvm::StringRef text, llvm::StringRef fingerprint);

class StatusCache {
public:
  explicit StatusCache(std::string directory) : dir(std::move(directory)) {}

  const std::string &directory() const { return dir; }

  std::optional<StatusFacts> loadFacts(llvm::StringRef key) const;
  /// Best effort: a failure to write leaves no file and is not reported.
  void saveFacts(llvm::StringRef key, const StatusFacts &facts) const;

  /// The key of a declared state in stored form (see the top of this file).
  /// \p serverFacts: what serverFactsQuery() returned, one string per column.
  static std::string declaredKey(llvm::StringRef sourcesKey, llvm::ArrayRef<std::string> versions,
                                 llvm::StringRef schema, llvm::ArrayRef<std::string> serverFacts);
  /// The catalog query whose single row goes into declaredKey: the server version and
  /// every installed extension with its version.
  static const char *serverFactsQuery();

  std::optional<compiler::Schema> loadDeclared(llvm::StringRef key) const;
  void saveDeclared(llvm::StringRef key, const compiler::Schema &schema) const;

  /// The drift result stored under \p key (a declaredKey) when it was computed at
  /// catalog \p fingerprint; nothing otherwise.
  std::optional<DriftReport> loadDrift(llvm::StringRef key, llvm::StringRef fingerprint) const;
  void saveDrift(llvm::StringRef key, llvm::StringRef fingerprint, const DriftReport &report) const;

  /// The file an entry of \p kind ("facts", "declared", "drift") with \p key lives in.
  std::string fileFor(llvm::StringRef kind, llvm::StringRef key) const;

private:
  std::optional<std::string> read(llvm::StringRef kind, llvm::StringRef key) const;
  void write(llvm::StringRef kind, llvm::StringRef key, llvm::StringRef body) const;

  std::string dir;
};

} // namespace strata::runtime
