// Keeping passwords out of output. A libpq connection string may carry a password
// (`password=...`, `sslpassword=...`, `postgres://user:pass@host/db`, `?password=...`),
// and connection strings end up in error messages, logs and plans; everything that could
// print one goes through these functions first.
#pragma once

#include "llvm/ADT/StringRef.h"

#include <string>

namespace strata::runtime {

/// Returns `connInfo` with every password value replaced by "****", everything else
/// byte-for-byte unchanged. Understands both libpq forms:
///  - key/value (`host=h password='a b\'c'`): the values of `password` and
///    `sslpassword`, quoted or not, with libpq's backslash escapes; a value that is itself
///    a connection string (e.g. `dbname='postgres://u:p@h/d'`) is redacted recursively;
///  - URIs (`postgres://` / `postgresql://`): the password of the user info and the
///    `password` / `sslpassword` query parameters.
/// Malformed input is redacted conservatively (an unterminated quoted password is masked
/// to the end; in a URI the user info extends to the last '@' before the host, so an
/// unescaped '@' or '/' in a password is still masked).
std::string redactConnInfo(llvm::StringRef connInfo);

/// Returns `text` (typically a libpq error message) with the secrets of `connInfo` masked:
/// a verbatim copy of `connInfo` becomes its redacted form, and any password value from it
/// (raw and percent-decoded) of 4 or more characters becomes "****". Shorter values are
/// left alone because masking e.g. "a" everywhere would destroy the message.
std::string redactSecretsIn(llvm::StringRef text, llvm::StringRef connInfo);

} // namespace strata::runtime
