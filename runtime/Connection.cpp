// Connection: libpq calls and the translation of their failures into PgError.
#include "runtime/Connection.h"

#include "runtime/ConnInfo.h"
#include "runtime/PgError.h"

#include <libpq-fe.h>
#include <llvm/ADT/STLExtras.h>
#include <llvm/ADT/SmallVector.h>

#include <cassert>
#include <utility>

namespace strata::runtime {

namespace {

// SQLSTATEs we assign ourselves where libpq reports none.
constexpr const char *connectionFailure = "08006";
constexpr const char *featureNotSupported = "0A000";
constexpr const char *nulInText = "22021"; // character_not_in_repertoire, as the server uses

std::string trimmed(const char *text) {
  return text ? llvm::StringRef(text).trim().str() : std::string();
}

std::string field(const PGresult *res, int code) { return trimmed(PQresultErrorField(res, code)); }

/// Builds the PgError for a failed (or missing) result. Server errors carry all fields;
/// libpq's own errors (lost connection, out of memory, bad parameter count) only a message.
llvm::Error resultError(PGconn *conn, const PGresult *res) {
  std::string sqlState = res ? field(res, PG_DIAG_SQLSTATE) : std::string();
  std::string message = res ? field(res, PG_DIAG_MESSAGE_PRIMARY) : std::string();
  // Fix: a session the server ends (pg_terminate_backend, a shutdown, a crash) sends its
  // reason as a FATAL message, then closes; the result only said "server closed the
  // connection unexpectedly". libpq keeps the reason in the connection's message: the
  // severity labels go, PgError puts the lines on one.
  if (message.empty() && PQstatus(conn) == CONNECTION_BAD) {
    llvm::SmallVector<llvm::StringRef, 4> lines;
    llvm::StringRef(PQerrorMessage(conn)).split(lines, '\n', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef line : lines) {
      line = line.trim();
      for (llvm::StringRef label : {"FATAL:", "ERROR:", "PANIC:"})
        if (line.consume_front(label))
          line = line.ltrim();
      message += (message.empty() ? "" : "\n") + line.str();
    }
  }
  if (message.empty())
    message = res ? trimmed(PQresultErrorMessage(res)) : std::string();
  if (message.empty())
    message = trimmed(PQerrorMessage(conn));
  if (message.empty())
    message = "unknown libpq error";
  if (sqlState.empty() && PQstatus(conn) == CONNECTION_BAD)
    sqlState = connectionFailure;
  if (!res)
    return llvm::make_error<PgError>(std::move(sqlState), std::move(message));
  return llvm::make_error<PgError>(std::move(sqlState), std::move(message),
                                   field(res, PG_DIAG_MESSAGE_DETAIL),
                                   field(res, PG_DIAG_MESSAGE_HINT), field(res, PG_DIAG_CONTEXT));
}

/// Ends a COPY that the server started because the SQL asked for one, so the connection
/// stays usable; strata never streams COPY data through exec().
void abandonCopy(PGconn *conn, ExecStatusType status) {
  if (status == PGRES_COPY_IN) {
    (void)PQputCopyEnd(conn, "COPY FROM STDIN is not supported by strata");
  } else if (status == PGRES_COPY_OUT) {
    char *buffer = nullptr;
    while (PQgetCopyData(conn, &buffer, /*async=*/0) > 0) {
      PQfreemem(buffer);
      buffer = nullptr;
    }
  }
  while (PGresult *rest = PQgetResult(conn))
    PQclear(rest);
}

bool containsNul(llvm::StringRef text) { return text.find('\0') != llvm::StringRef::npos; }

void collectNotice(void *arg, const PGresult *res) {
  auto *notices = static_cast<std::vector<std::string> *>(arg);
  notices->push_back(trimmed(PQresultErrorMessage(res)));
}

} // namespace

llvm::Expected<Connection> Connection::open(llvm::StringRef connInfo) {
  std::string connInfoText = connInfo.str();
  if (containsNul(connInfo))
    return llvm::make_error<PgError>(connectionFailure, "connection string contains a NUL byte");
  PGconn *conn = PQconnectdb(connInfoText.c_str());
  if (!conn)
    return llvm::make_error<PgError>(connectionFailure, "out of memory allocating a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq sometimes quotes the connection string (or a piece of it) in its message.
    std::string message = redactSecretsIn(trimmed(PQerrorMessage(conn)), connInfo);
    PQfinish(conn);
    std::string context = connInfo.trim().empty()
                              ? "while connecting with libpq's defaults (PG* environment)"
                              : "while connecting to \"" + redactConnInfo(connInfo) + "\"";
    return llvm::make_error<PgError>(connectionFailure, std::move(message), "", "",
                                     std::move(context));
  }
  // Catalog names and .strata sources are UTF-8 whatever the database encoding is.
  if (PQsetClientEncoding(conn, "UTF8") != 0) {
    std::string message = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return llvm::make_error<PgError>(connectionFailure,
                                     "could not set client_encoding to UTF8: " + message);
  }
  auto notices = std::make_unique<NoticeList>();
  PQsetNoticeReceiver(conn, collectNotice, notices.get());
  return Connection(conn, std::move(notices));
}

Connection::Connection(pg_conn *conn, std::unique_ptr<NoticeList> notices)
    : conn(conn), notices(std::move(notices)) {}

Connection::Connection(Connection &&other) noexcept
    : conn(std::exchange(other.conn, nullptr)), notices(std::move(other.notices)),
      prepared(std::move(other.prepared)) {}

Connection &Connection::operator=(Connection &&other) noexcept {
  if (this != &other) {
    PQfinish(conn);
    conn = std::exchange(other.conn, nullptr);
    notices = std::move(other.notices);
    prepared = std::move(other.prepared);
  }
  return *this;
}

Connection::~Connection() { PQfinish(conn); }

llvm::Error Connection::prepareOnce(llvm::StringRef name, llvm::StringRef sql) {
  if (llvm::is_contained(prepared, name))
    return llvm::Error::success();
  llvm::Expected<Result> r = exec(("PREPARE " + name + " AS " + sql).str());
  if (!r)
    return r.takeError();
  prepared.push_back(name.str());
  return llvm::Error::success();
}

llvm::Expected<Result> Connection::check(PGresult *res) {
  ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  switch (status) {
  case PGRES_COMMAND_OK:
  case PGRES_TUPLES_OK:
  case PGRES_EMPTY_QUERY:
    return Result(res);
  case PGRES_COPY_IN:
  case PGRES_COPY_OUT:
  case PGRES_COPY_BOTH:
    PQclear(res);
    abandonCopy(conn, status);
    return llvm::make_error<PgError>(featureNotSupported,
                                     "COPY to or from the client is not supported here");
  default: {
    // libpq's enum: errors, plus pipeline/single-row states we never enable.
    llvm::Error error = resultError(conn, res);
    PQclear(res);
    return error;
  }
  }
}

llvm::Expected<Result> Connection::exec(llvm::StringRef sql) {
  assert(conn && "use of a moved-from Connection");
  if (containsNul(sql))
    return llvm::make_error<PgError>(nulInText, "SQL text contains a NUL byte");
  std::string text = sql.str();
  return check(PQexec(conn, text.c_str()));
}

llvm::Error Connection::execEach(llvm::StringRef sql,
                                 llvm::function_ref<void(const Result &)> each) {
  assert(conn && "use of a moved-from Connection");
  if (containsNul(sql))
    return llvm::make_error<PgError>(nulInText, "SQL text contains a NUL byte");
  std::string text = sql.str();
  if (PQsendQuery(conn, text.c_str()) == 0)
    return resultError(conn, nullptr);
  llvm::Error first = llvm::Error::success();
  bool failed = false;
  // Every result is read, also after a failure: the connection is usable only once
  // PQgetResult has returned null.
  while (PGresult *res = PQgetResult(conn)) {
    if (failed) {
      PQclear(res);
      continue;
    }
    llvm::Expected<Result> r = check(res);
    if (!r) {
      first = r.takeError();
      failed = true;
      continue;
    }
    each(*r);
  }
  return first;
}

llvm::Expected<Result> Connection::execParams(llvm::StringRef sql,
                                              llvm::ArrayRef<std::optional<std::string>> params) {
  assert(conn && "use of a moved-from Connection");
  if (containsNul(sql))
    return llvm::make_error<PgError>(nulInText, "SQL text contains a NUL byte");
  std::vector<const char *> values;
  values.reserve(params.size());
  for (const std::optional<std::string> &param : params) {
    if (param && containsNul(*param))
      return llvm::make_error<PgError>(nulInText, "query parameter contains a NUL byte");
    values.push_back(param ? param->c_str() : nullptr);
  }
  std::string text = sql.str();
  return check(PQexecParams(conn, text.c_str(), static_cast<int>(values.size()),
                            /*paramTypes=*/nullptr, values.data(), /*paramLengths=*/nullptr,
                            /*paramFormats=*/nullptr, /*resultFormat=*/0));
}

namespace {
std::string orEmpty(const char *text) { return text ? std::string(text) : std::string(); }
} // namespace

std::string Connection::host() const { return orEmpty(PQhost(conn)); }
std::string Connection::port() const { return orEmpty(PQport(conn)); }
std::string Connection::database() const { return orEmpty(PQdb(conn)); }
std::string Connection::user() const { return orEmpty(PQuser(conn)); }

bool Connection::inTransaction() const {
  assert(conn && "use of a moved-from Connection");
  PGTransactionStatusType status = PQtransactionStatus(conn);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

std::vector<std::string> Connection::takeNotices() {
  assert(notices && "use of a moved-from Connection");
  return std::exchange(*notices, {});
}

} // namespace strata::runtime
