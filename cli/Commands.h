// The strata commands as library functions: the executable only parses arguments and
// calls these, so every command is testable without spawning a process.
#pragma once

#include <llvm/Support/Error.h>
#include <llvm/Support/raw_ostream.h>

#include <string>
#include <vector>

namespace strata::runtime {
struct DatabaseStatus;
}

namespace strata::cli {

std::string statusText(const runtime::DatabaseStatus &status);
std::string statusJson(const runtime::DatabaseStatus &status);


/// Exit codes shared by every command.
enum ExitCode : int {
  ExitOk = 0,
  ExitFailure = 1, ///< errors in the input, or a failed operation
  ExitUsage = 2,   ///< bad command line
};

enum class OutputFormat { Text, Json };

struct CheckOptions {
  std::vector<std::string> paths; ///< files or directories; empty: the current directory
  OutputFormat format = OutputFormat::Text;
  bool color = false;
  /// Clang's -verify: compare diagnostics with `expected-error {{...}}` comments.
  bool verify = false;
};

/// `strata check`: parse, compile and verify every version. Diagnostics go to \p err
/// (text) or \p out (JSON).
int runCheck(const CheckOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

struct ShowOptions {
  std::vector<std::string> paths;
  std::string target; ///< SUBSYSTEM@VERSION
  bool ops = false;   ///< the version's Ops instead of its state
  bool color = false;
};

/// `strata show SUBSYSTEM@VERSION`: the version's full schema state as canonical DSL
/// (which compiles back to the same state), or with --ops its Ops and checksum.
int runShow(const ShowOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

struct PlanOptions {
  std::vector<std::string> paths;
  std::string phase; ///< up, finish, bootstrap
  std::string from;  ///< "core@1.0.0,acl@1.0.0": executed (and finished) nodes
  std::string db;    ///< read the starting point from this database instead
  std::string to;    ///< targets; empty: every subsystem's latest
  std::string format; ///< text, sql, json, markdown; empty: text, or json with -o
  std::string output; ///< -o FILE
  bool force = false; ///< with --db: plan what 'apply --force' would run
  bool color = false;
};

/// `strata plan up|finish|bootstrap`: the dry run. Exit 1 when the plan has compatibility
/// errors (it is still printed, so the reviewer sees where).
int runPlan(const PlanOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

struct GraphOptions {
  std::vector<std::string> paths;
  std::string from;
  bool color = false;
};

/// `strata graph`: the version DAG as Graphviz DOT.
int runGraph(const GraphOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// What every database command takes.
struct RunOptions {
  std::vector<std::string> paths;
  std::string db; ///< conninfo or URI; empty: PG* variables, .pgpass, service file (as psql)
  std::string to;
  bool color = false;
};

struct ApplyOptions {
  RunOptions run;
  std::string phase;    ///< bootstrap, up, finish; may be empty with --plan
  std::string planFile; ///< --plan FILE
  bool force = false;
  bool yes = false;
  double lockWait = 60;         ///< --lock-timeout: seconds to wait for another runner
  int64_t ddlLockTimeoutMs = 1000; ///< --ddl-lock-timeout: lock_timeout of each step
  int64_t batchSize = 1000;
  int64_t batchPauseMs = 0;
};

/// `strata apply bootstrap|up|finish` and `strata apply --plan FILE`.
int runApply(const ApplyOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// One line `strata: error: ...` on \p errs (secrets of options.db redacted); ExitFailure.
int reportRunError(llvm::Error err, const RunOptions &options, llvm::raw_ostream &errs);

struct StatusOptions {
  RunOptions run;
  bool json = false;
  std::string app; ///< --app core@1.1.0,acl@1.0.0: the node-start check instead
  /// --no-cache (or STRATA_NO_CACHE=1): neither read nor write the status cache.
  bool noCache = false;
  /// Where the cache lives; empty: runtime::defaultCacheDirectory().
  std::string cacheDir;
};

/// `strata status`: exit 0 up to date, 3 needs bootstrap, 4 pending finish, 5 new only,
/// 7 a version changed since it ran.
/// Uses the status cache (runtime/StatusCache.h): the compiled project's facts and the
/// declared state in stored form, so that a warm run neither compiles the sources nor
/// builds the scratch schema of the drift check; the records and the live catalog are
/// read from the database on every run.
int runStatus(const StatusOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// `strata status --app ...`: may an application built for these versions start on the
/// database now (libstrata's checkCompatibility; no .strata sources needed). Exit 0 yes,
/// 1 error, 3 needs bootstrap, 5 needs up, 6 too new (strata::Verdict).
int runAppStatus(const StatusOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

struct ResetOptions {
  RunOptions run;
  bool yes = false;
};

/// `strata reset`: drop what strata created, after confirmation.
int runReset(const ResetOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

struct FmtOptions {
  std::vector<std::string> paths; ///< files or directories; none: "."; just "-": stdin
  bool check = false;    ///< write nothing; list the files that would change, exit 1 if any
  bool toStdout = false; ///< print the formatted text instead of rewriting the files
  bool color = false;
};

/// `strata fmt`: rewrites every file not in the canonical layout and lists it on \p out.
/// Exit 0, or 1 with --check when a file would change, or 2 when a file does not parse
/// (its diagnostics on \p err) or cannot be read or written.
int runFmt(const FmtOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

struct NewOptions {
  std::string kind;      ///< "subsystem" or "version"
  std::string subsystem; ///< the subsystem to create, or to add a version to
  std::string version;   ///< the version to add; for a new subsystem, its first (1.0.0)
  std::string dir;       ///< where the .strata files are (default: .)
  bool color = false;
};

/// `strata new subsystem NAME [VERSION]` writes DIR/NAME.strata with a first version;
/// `strata new version SUBSYSTEM VERSION` appends a version block to the subsystem's file.
/// Never overwrites: exit 1 when the file, subsystem or version exists, 2 on a bad name.
int runNew(const NewOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err);

/// Should output to this stream be coloured? A terminal, and NO_COLOR unset.
bool wantColor(int fd);

} // namespace strata::cli
