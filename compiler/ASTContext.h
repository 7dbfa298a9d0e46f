// The arena that owns the AST of one compilation: nodes, lists and saved strings.
#pragma once

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/Support/Allocator.h>
#include <llvm/Support/StringSaver.h>

#include <type_traits>
#include <utility>

namespace strata::compiler {

class ASTContext {
public:
  ASTContext() : saver(allocator) {}
  ASTContext(const ASTContext &) = delete;
  ASTContext &operator=(const ASTContext &) = delete;

  /// A node in the arena. Nodes are never destroyed, so they must not own anything.
  template <typename T, typename... Args> T *create(Args &&...args) {
    static_assert(std::is_trivially_destructible_v<T>, "AST nodes must not own memory");
    return new (allocator.Allocate<T>()) T(std::forward<Args>(args)...);
  }

  /// A copy of \p items in the arena.
  template <typename T> llvm::ArrayRef<T> copy(llvm::ArrayRef<T> items) {
    static_assert(std::is_trivially_destructible_v<T>, "AST lists must not own memory");
    if (items.empty())
      return {};
    T *out = allocator.Allocate<T>(items.size());
    std::uninitialized_copy(items.begin(), items.end(), out);
    return llvm::ArrayRef<T>(out, items.size());
  }

  llvm::StringRef save(llvm::StringRef text) { return saver.save(text); }

  size_t bytesAllocated() const { return allocator.getBytesAllocated(); }

private:
  llvm::BumpPtrAllocator allocator;
  llvm::StringSaver saver;
};

} // namespace strata::compiler
