// Connection: a session with a PostgreSQL server, the runtime's only door to libpq.
// Move-only RAII owner of a PGconn. Every failure (cannot connect, SQL error, lost
// connection) comes back as a PgError inside llvm::Expected; nothing throws.
//
// libpq stays a private dependency: this header only forward-declares its structs.
#pragma once

#include "runtime/Result.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;

namespace strata::runtime {

class Connection {
public:
  /// Connects with a libpq connection string, passed to PQconnectdb unchanged: key/value
  /// (`host=/tmp port=5432 dbname=app`) or a URI (`postgres://user@host/app`). Unset
  /// parameters come from the PG* environment variables, the service file and .pgpass,
  /// exactly as for psql; so "" means "whatever psql would connect to". The session's
  /// client_encoding is set to UTF8. On failure the PgError has SQLSTATE 08006 and no
  /// password from `connInfo` appears anywhere in it.
  static llvm::Expected<Connection> open(llvm::StringRef connInfo);

  Connection(Connection &&other) noexcept;
  Connection &operator=(Connection &&other) noexcept;
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;
  ~Connection();

  /// Runs `sql`, which may hold several statements separated by ';' (they then run in one
  /// implicit transaction, and the Result is that of the last one). COPY FROM STDIN / TO
  /// STDOUT is refused with SQLSTATE 0A000 and leaves the connection usable.
  llvm::Expected<Result> exec(llvm::StringRef sql);
  /// Runs `sql`, which may hold several statements, and passes the Result of each one that
  /// succeeds to \p each, in order, as it arrives. The server stops at the first statement
  /// that fails; its error is returned. Explicit BEGIN/COMMIT in `sql` make transactions
  /// of their own: those committed before the failure stay committed, and a transaction
  /// block the failure aborted is left open for the caller to roll back.
  llvm::Error execEach(llvm::StringRef sql, llvm::function_ref<void(const Result &)> each);
  /// Runs one statement with `$1`, `$2`, ... bound to `params` in text form; std::nullopt
  /// binds SQL NULL. Parameter types are inferred by the server.
  llvm::Expected<Result> execParams(llvm::StringRef sql,
                                    llvm::ArrayRef<std::optional<std::string>> params);

  /// Where the session is connected, as libpq resolved it (PQhost, PQport, PQdb, PQuser):
  /// what a confirmation names, as psql's \conninfo does. A socket's host is its directory.
  std::string host() const;
  std::string port() const;
  std::string database() const;
  std::string user() const;

  /// Whether the session is inside a transaction block (open or aborted).
  bool inTransaction() const;

  /// NOTICE/WARNING messages the server sent since the last call, one line each
  /// ("NOTICE:  ..."). They are collected rather than printed by libpq to stderr so that
  /// the caller decides what reaches the user.
  std::vector<std::string> takeNotices();

  /// Prepares \p sql as the session's statement \p name, for `EXECUTE name(...)` inside
  /// later SQL text, unless this session prepared \p name already. A prepared statement is
  /// parsed and planned once: strata's bookkeeping statements run once per step, and
  /// planning them each time cost more than executing them.
  llvm::Error prepareOnce(llvm::StringRef name, llvm::StringRef sql);

private:
  using NoticeList = std::vector<std::string>;
  Connection(pg_conn *conn, std::unique_ptr<NoticeList> notices);
  llvm::Expected<Result> check(pg_result *res);

  pg_conn *conn = nullptr;
  // Heap-allocated so its address, registered with libpq, survives moves of Connection.
  std::unique_ptr<NoticeList> notices;
  std::vector<std::string> prepared; ///< statement names prepareOnce prepared
};

} // namespace strata::runtime
