// Helpers for command tests: a scratch directory removed at the end, and running the real
// strata executable (which the test target depends on).
#pragma once

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>
#include <llvm/Support/Program.h>
#include <llvm/Support/raw_ostream.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

/// What a run of the executable did.
struct Process {
  int code;
  std::string out;
  std::string err;
};

/// Runs the strata executable with \p args and an empty standard input.
inline Process runStrata(std::vector<llvm::StringRef> args) {
  const std::string binary = STRATA_BINARY_DIR "/cli/strata";
  TempDir dir;
  std::string outPath = dir.write("stdout", ""), errPath = dir.write("stderr", "");
  std::vector<llvm::StringRef> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  llvm::Optional<llvm::StringRef> redirects[] = {llvm::StringRef(""), llvm::StringRef(outPath),
                                                 llvm::StringRef(errPath)};
  std::string error;
  Process p;
  p.code = llvm::sys::ExecuteAndWait(binary, argv, /*Env=*/llvm::None, redirects,
                                     /*SecondsToWait=*/60, /*MemoryLimit=*/0, &error);
  EXPECT_EQ(error, "");
  auto read = [](const std::string &path) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    return buffer ? (*buffer)->getBuffer().str() : std::string();
  };
  p.out = read(outPath);
  p.err = read(errPath);
  return p;
}

} // namespace strata::test
