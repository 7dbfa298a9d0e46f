#include "compiler/Sha256.h"

#include <llvm/ADT/StringExtras.h>
#include <openssl/evp.h>

#include <cstdlib>

namespace strata::compiler {

namespace {
EVP_MD_CTX *ctx(void *context) { return static_cast<EVP_MD_CTX *>(context); }
} // namespace

Sha256::Sha256() : context(EVP_MD_CTX_new()) {
  // Only allocation can fail here: treated as running out of memory, like operator new.
  if (!context || EVP_DigestInit_ex(ctx(context), EVP_sha256(), nullptr) != 1)
    std::abort();
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx(context)); }

void Sha256::update(llvm::StringRef bytes) {
  if (!bytes.empty())
    EVP_DigestUpdate(ctx(context), bytes.data(), bytes.size());
}

std::array<uint8_t, 32> Sha256::final() {
  std::array<uint8_t, 32> digest{};
  unsigned length = 0;
  EVP_DigestFinal_ex(ctx(context), digest.data(), &length);
  return digest;
}

std::string Sha256::finalHex() { return llvm::toHex(final(), /*LowerCase=*/true); }

} // namespace strata::compiler
