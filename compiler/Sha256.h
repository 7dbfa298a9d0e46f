// SHA-256, by OpenSSL's libcrypto (a dependency of libpq already).
//
// LLVM's SHA256 is portable C: on this machine about 150 MB/s, which made hashing the
// sources a third of a warm `strata status` and the version checksums 8 % of `strata
// check`. libcrypto uses the CPU's SHA extensions where there are some (1.4 GB/s here).
// The digests are the same: checksums recorded in databases and cache keys are unchanged.
#pragma once

#include <llvm/ADT/StringRef.h>

#include <array>
#include <cstdint>
#include <string>

namespace strata::compiler {

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256 &) = delete;
  Sha256 &operator=(const Sha256 &) = delete;

  void update(llvm::StringRef bytes);
  /// The digest of everything updated so far; the hasher is spent afterwards.
  std::array<uint8_t, 32> final();
  /// final(), as 64 lower-case hex digits.
  std::string finalHex();

private:
  void *context; ///< an EVP_MD_CTX, kept out of this header
};

} // namespace strata::compiler
