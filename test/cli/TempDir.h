// A scratch directory for command tests, removed with everything in it at the end.
#pragma once

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/raw_ostream.h>

#include <gtest/gtest.h>

#include <string>

namespace strata::test {

class TempDir {
public:
  TempDir() {
    std::error_code ec = llvm::sys::fs::createUniqueDirectory("strata-cli-test", path);
    EXPECT_FALSE(ec) << ec.message();
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  /// Writes \p text to the file \p name in the directory; returns its path.
  std::string write(llvm::StringRef name, llvm::StringRef text) {
    std::string file = this->file(name);
    std::error_code ec;
    llvm::raw_fd_ostream os(file, ec);
    EXPECT_FALSE(ec) << ec.message();
    os << text;
    return file;
  }
  /// The path of \p name in the directory.
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<128> file(path);
    llvm::sys::path::append(file, name);
    return std::string(file);
  }
  /// The contents of \p name, or "" when it cannot be read.
  std::string read(llvm::StringRef name) const {
    auto buffer = llvm::MemoryBuffer::getFile(file(name));
    return buffer ? (*buffer)->getBuffer().str() : std::string();
  }
  std::string str() const { return std::string(path); }

private:
  llvm::SmallString<128> path;
};

} // namespace strata::test
