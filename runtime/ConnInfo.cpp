// Password redaction for libpq connection strings. The key/value scanner mirrors libpq's
// conninfo_parse (fe-connect.c) so that what we mask is exactly what libpq would read as
// the password; where libpq would reject the string we err on the side of masking more.
#include "runtime/ConnInfo.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <vector>

namespace strata::runtime {

namespace {

constexpr llvm::StringLiteral mask = "****";

/// A byte range of the input to replace.
struct Edit {
  size_t begin;
  size_t end;
  std::string replacement;
};

bool isSpace(char c) { return llvm::isSpace(c); }

bool isSecretKey(llvm::StringRef key) {
  // libpq's keywords are case-sensitive; ignoring case only ever masks more.
  return key.equals_insensitive("password") || key.equals_insensitive("sslpassword");
}

bool isUri(llvm::StringRef s) {
  s = s.ltrim();
  return s.startswith_insensitive("postgresql://") || s.startswith_insensitive("postgres://");
}

/// Single-quotes a key/value conninfo value the way libpq reads it back.
std::string quoteValue(llvm::StringRef value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string percentDecode(llvm::StringRef s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && llvm::isHexDigit(s[i + 1]) &&
        llvm::isHexDigit(s[i + 2])) {
      out += static_cast<char>(llvm::hexFromNibbles(s[i + 1], s[i + 2]));
      i += 2;
      continue;
    }
    out += s[i];
  }
  return out;
}

std::string redact(llvm::StringRef s, std::vector<std::string> &secrets);

/// Records a masked secret both as written and as libpq would decode it.
void addSecret(std::vector<std::string> &secrets, llvm::StringRef raw, std::string decoded) {
  secrets.push_back(raw.str());
  if (decoded != raw)
    secrets.push_back(std::move(decoded));
}

void findUriEdits(llvm::StringRef s, std::vector<Edit> &edits, std::vector<std::string> &secrets) {
  size_t restBegin = s.find("://") + 3;
  llvm::StringRef rest = s.drop_front(restBegin);

  // User info. libpq ends it at the first '@' before any '/'; taking the last '@' before the
  // first '/' (or, if none, before the first '?') also covers passwords with an unescaped
  // '@' or '/', which libpq would otherwise echo back as part of a host or port.
  size_t at = rest.substr(0, rest.find('/')).rfind('@');
  if (at == llvm::StringRef::npos)
    at = rest.substr(0, rest.find('?')).rfind('@');
  if (at != llvm::StringRef::npos) {
    llvm::StringRef userInfo = rest.substr(0, at);
    size_t colon = userInfo.find(':');
    if (colon != llvm::StringRef::npos && colon + 1 < at) {
      llvm::StringRef password = userInfo.drop_front(colon + 1);
      addSecret(secrets, password, percentDecode(password));
      edits.push_back({restBegin + colon + 1, restBegin + at, mask.str()});
    }
  }

  // Query parameters. Scanned over the whole rest, not just after the first '?': a '?' may
  // also sit in an unescaped password, and masking overlaps are merged later.
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '?' && rest[i] != '&')
      continue;
    size_t keyBegin = i + 1;
    size_t eq = rest.find_first_of("=&", keyBegin);
    if (eq == llvm::StringRef::npos || rest[eq] != '=')
      continue;
    if (!isSecretKey(percentDecode(rest.slice(keyBegin, eq))))
      continue;
    size_t valueEnd = std::min(rest.find('&', eq + 1), rest.size());
    if (valueEnd == eq + 1)
      continue;
    llvm::StringRef value = rest.slice(eq + 1, valueEnd);
    addSecret(secrets, value, percentDecode(value));
    edits.push_back({restBegin + eq + 1, restBegin + valueEnd, mask.str()});
  }
}

void findKeyValueEdits(llvm::StringRef s, std::vector<Edit> &edits,
                       std::vector<std::string> &secrets) {
  size_t n = s.size();
  size_t i = 0;
  auto skipSpaces = [&] {
    while (i < n && isSpace(s[i]))
      ++i;
  };
  while (true) {
    skipSpaces();
    if (i >= n)
      return;
    size_t keyBegin = i;
    while (i < n && s[i] != '=' && !isSpace(s[i]))
      ++i;
    llvm::StringRef key = s.slice(keyBegin, i);
    skipSpaces();
    if (i >= n || s[i] != '=') {
      // libpq rejects a keyword without '='. If it was a password keyword, what follows is
      // probably the password: mask it all.
      if (isSecretKey(key) && i < n) {
        edits.push_back({i, n, mask.str()});
        addSecret(secrets, s.drop_front(i).rtrim(), s.drop_front(i).rtrim().str());
        return;
      }
      continue;
    }
    ++i; // '='
    // As in libpq, whitespace after '=' is skipped, so `password= x` sets "x".
    skipSpaces();
    size_t valueBegin = i;
    std::string value;
    if (i < n && s[i] == '\'') {
      ++i;
      while (i < n) {
        if (s[i] == '\\' && i + 1 < n) {
          value += s[i + 1];
          i += 2;
          continue;
        }
        if (s[i] == '\'') {
          ++i;
          break;
        }
        value += s[i++];
      }
    } else {
      while (i < n && !isSpace(s[i])) {
        if (s[i] == '\\' && i + 1 < n)
          ++i;
        value += s[i++];
      }
    }
    llvm::StringRef raw = s.slice(valueBegin, i);
    if (isSecretKey(key)) {
      if (!value.empty()) {
        addSecret(secrets, raw, value);
        edits.push_back({valueBegin, i, mask.str()});
      }
      continue;
    }
    // A value may itself be a connection string (libpq expands `dbname` that way in
    // some APIs); redact inside it too.
    std::string inner = redact(value, secrets);
    if (inner != value)
      edits.push_back({valueBegin, i, quoteValue(inner)});
  }
}

std::string applyEdits(llvm::StringRef s, std::vector<Edit> edits) {
  llvm::sort(edits, [](const Edit &a, const Edit &b) { return a.begin < b.begin; });
  std::string out;
  size_t pos = 0;
  for (const Edit &edit : edits) {
    if (edit.end <= pos)
      continue; // inside a range already masked
    if (edit.begin < pos) {
      // Overlaps the previous mask: extend it without a second "****".
      pos = edit.end;
      continue;
    }
    out += s.slice(pos, edit.begin);
    out += edit.replacement;
    pos = edit.end;
  }
  out += s.drop_front(pos);
  return out;
}

std::string redact(llvm::StringRef s, std::vector<std::string> &secrets) {
  std::vector<Edit> edits;
  if (isUri(s))
    findUriEdits(s, edits, secrets);
  else
    findKeyValueEdits(s, edits, secrets);
  return applyEdits(s, std::move(edits));
}

/// Replaces every occurrence of `needle` in `text` with `replacement`.
std::string replaceAll(llvm::StringRef text, llvm::StringRef needle, llvm::StringRef replacement) {
  if (needle.empty())
    return text.str();
  std::string out;
  while (true) {
    size_t found = text.find(needle);
    if (found == llvm::StringRef::npos)
      break;
    out += text.substr(0, found);
    out += replacement;
    text = text.drop_front(found + needle.size());
  }
  out += text;
  return out;
}

} // namespace

std::string redactConnInfo(llvm::StringRef connInfo) {
  std::vector<std::string> secrets;
  return redact(connInfo, secrets);
}

std::string redactSecretsIn(llvm::StringRef text, llvm::StringRef connInfo) {
  std::vector<std::string> secrets;
  std::string redacted = redact(connInfo, secrets);
  std::string out = replaceAll(text, connInfo, redacted);
  // Longest first, so a secret that contains another is masked whole.
  llvm::sort(secrets,
             [](const std::string &a, const std::string &b) { return a.size() > b.size(); });
  for (const std::string &secret : secrets) {
    if (secret.size() >= 4)
      out = replaceAll(out, secret, mask);
  }
  return out;
}

} // namespace strata::runtime
