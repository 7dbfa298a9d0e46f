// Oracle: one generated upgrade run against PostgreSQL and compared with what the
// compatibility proof said about it (issue 22).
//
// The pair is compiled; `check`'s findings and the `up` plan's decide whether it is
// refused (an error) and which tables the proof warned about. A pair that is not refused
// runs on three fresh databases:
//   A (the upgrade under test): bootstrap of the old version O, O's workload, `apply up`,
//     O's and N's workloads interleaved on two sessions, every row read through the other
//     version's names, `apply finish`, N's workload again, every row read again;
//   B (O alone, then a serial upgrade): bootstrap of O, both of O's workloads, then `up`
//     and `finish` with no node running: what O's statements do at O, and what O's rows
//     become when they were all written before the upgrade;
//   C (N alone): bootstrap of N and both of N's workloads: what N's statements do at N.
// Every statement's outcome on A is compared with the same statement's on B (old) or C
// (new); O's rows read through N's names on A, during the window and after finish, with
// the same rows on B after its serial upgrade; N's rows through O's names with C; the
// catalogs of A and B after finish with C's. A difference on a table the proof warned
// about (or that a change marked unsafe touches) is counted as warned; anywhere else it is
// a soundness finding.
//
// Test-only (test/oracle).
#pragma once

#include "test/oracle/GeneratedPair.h"

#include "runtime/Connection.h"

#include <optional>
#include <string>
#include <vector>

namespace strata::oracle {

struct OracleFinding {
  /// "statement failed", "different result", "old row reads back
  /// wrong", "new row reads back wrong", "up failed", "finish failed", "catalog differs",
  /// "bootstrap failed"
  std::string kind;
  std::string who; ///< "old", "new", "" (the upgrade itself)
  std::string table;
  std::string statement;
  std::string expected; ///< at the version alone (B or C)
  std::string actual;   ///< on the upgraded database (A)
  bool warned = false;  ///< the proof warned about the table: not a soundness finding

  /// The class of the finding: kind and who, without names ("statement failed (old)").
  std::string what() const;
  std::string str() const;
};

struct PairResult {
  enum class Verdict { Invalid, Refused, Ran };
  Verdict verdict = Verdict::Invalid;
  std::string diagnostics;             ///< check's output when there were findings
  std::vector<std::string> errorCodes; ///< why the pair was refused
  std::vector<std::string> warningCodes;
  std::string plan; ///< the up plan as `strata plan` prints it
  std::vector<OracleFinding> findings;
  size_t statements = 0;
  size_t looser = 0; ///< statements that failed at the version alone and not on A

  bool unsound() const;
  /// The first finding that is not warned.
  const OracleFinding *firstUnsound() const;
};

class Oracle {
public:
  /// \p serverConnInfo: a server where the oracle may create and drop databases.
  explicit Oracle(std::string serverConnInfo);
  ~Oracle();
  Oracle(const Oracle &) = delete;
  Oracle &operator=(const Oracle &) = delete;

  /// Why the server cannot be used; empty when it can.
  const std::string &failure() const { return setupFailure; }

  PairResult run(const GeneratedPair &pair);

private:
  std::string server;
  std::optional<runtime::Connection> admin;
  std::string setupFailure;
  int databases = 0;
};

} // namespace strata::oracle
