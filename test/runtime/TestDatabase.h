// Helpers for integration tests that need a database of their own on the server that
// scripts/pg.sh starts (STRATA_TEST_DB): a fresh database per test, dropped at the end, so
// that tests are independent and can run in parallel (ctest -j); and the real `strata`
// executable run as a child process, to check exit codes and output or to kill it.
//
// Header-only and test-only: every failure is a gtest failure, never an exception.
#pragma once

#include "runtime/Connection.h"

#include <gtest/gtest.h>
#include <llvm/Support/Error.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <optional>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace strata::test {

/// The server's conninfo from STRATA_TEST_DB, or nothing (tests then GTEST_SKIP).
inline std::optional<std::string> serverConnInfo() {
  const char *connInfo = std::getenv("STRATA_TEST_DB");
  if (!connInfo || !*connInfo)
    return std::nullopt;
  return std::string(connInfo);
}

/// Opens a connection or fails the test (the caller checks HasFatalFailure / the result).
inline std::optional<runtime::Connection> connectOrFail(const std::string &connInfo) {
  llvm::Expected<runtime::Connection> conn = runtime::Connection::open(connInfo);
  if (!conn) {
    ADD_FAILURE() << "cannot connect (" << connInfo << "): " << llvm::toString(conn.takeError());
    return std::nullopt;
  }
  return std::move(*conn);
}

/// Runs \p sql on \p conn; on error fails the test and returns nothing. The first column
/// of the first row otherwise ("" when there is none).
inline std::optional<std::string> query(runtime::Connection &conn, const std::string &sql) {
  llvm::Expected<runtime::Result> r = conn.exec(sql);
  if (!r) {
    ADD_FAILURE() << sql << "\n" << llvm::toString(r.takeError());
    return std::nullopt;
  }
  if (r->rows() == 0 || r->cols() == 0)
    return std::string();
  return r->get(0, 0).str();
}

/// A database created for one test (unique name from the test's name and the process id)
/// and dropped, with whatever connections are left, when the object dies.
class TestDatabase {
public:
  /// Creates the database on \p onServer (default: STRATA_TEST_DB's server); check ok()
  /// (false: a gtest failure was reported).
  explicit TestDatabase(const std::string &tag,
                        const std::optional<std::string> &onServer = std::nullopt) {
    std::optional<std::string> server = onServer ? onServer : serverConnInfo();
    if (!server) {
      ADD_FAILURE() << "STRATA_TEST_DB is not set";
      return;
    }
    static std::atomic<int> counter{0};
    std::string test = "x";
    if (const ::testing::TestInfo *info = ::testing::UnitTest::GetInstance()->current_test_info())
      test = info->name();
    std::string raw = "strata_" + tag + "_" + test;
    for (char &c : raw)
      c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    std::string suffix = "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    dbName = raw.substr(0, 63 - suffix.size()) + suffix;
    admin = connectOrFail(*server);
    if (!admin)
      return;
    if (!query(*admin, "DROP DATABASE IF EXISTS \"" + dbName + "\" WITH (FORCE)") ||
        !query(*admin, "CREATE DATABASE \"" + dbName + "\""))
      return;
    conninfo = *server + " dbname=" + dbName;
    this->server = *server;
    created = true;
  }

  ~TestDatabase() {
    if (!created || !admin)
      return;
    // WITH (FORCE): a killed strata's backend may still be on its way out.
    const std::string drop = "DROP DATABASE IF EXISTS \"" + dbName + "\" WITH (FORCE)";
    llvm::Expected<runtime::Result> r = admin->exec(drop);
    if (!r) {
      // The server may have restarted under the test (FaultTest): a new session.
      llvm::consumeError(r.takeError());
      admin = connectOrFail(server);
      if (!admin)
        return;
      r = admin->exec(drop);
    }
    if (!r)
      ADD_FAILURE() << "dropping " << dbName << ": " << llvm::toString(r.takeError());
  }

  TestDatabase(const TestDatabase &) = delete;
  TestDatabase &operator=(const TestDatabase &) = delete;

  bool ok() const { return created; }
  const std::string &name() const { return dbName; }
  /// The server's conninfo with ` dbname=<this database>` appended.
  const std::string &connInfo() const { return conninfo; }

  /// A new session on this database (fails the test when it cannot connect).
  std::optional<runtime::Connection> connect() const { return connectOrFail(conninfo); }

private:
  std::string dbName;
  std::string conninfo;
  std::string server;
  std::optional<runtime::Connection> admin;
  bool created = false;
};

/// A directory under /tmp holding one project file, removed with the object. Rewrite the
/// file to change the project between runs.
class ProjectDir {
public:
  explicit ProjectDir(const std::string &text) {
    char pattern[] = "/tmp/strata-apply-XXXXXX";
    if (!mkdtemp(pattern)) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
      return;
    }
    dir = pattern;
    write(text);
  }
  ~ProjectDir() {
    if (dir.empty())
      return;
    std::remove(file().c_str());
    for (const std::string &extra : extras)
      std::remove(extra.c_str());
    rmdir(dir.c_str());
  }
  ProjectDir(const ProjectDir &) = delete;
  ProjectDir &operator=(const ProjectDir &) = delete;

  void write(const std::string &text) const {
    std::ofstream out(file(), std::ios::trunc);
    out << text;
  }
  const std::string &path() const { return dir; }
  std::string file() const { return dir + "/project.strata"; }
  /// A path in the directory for another file (removed with it), such as a plan file.
  std::string extra(const std::string &name) {
    extras.push_back(dir + "/" + name);
    return extras.back();
  }

private:
  std::string dir;
  std::vector<std::string> extras;
};

/// The path of the strata executable built with the tests.
inline std::string strataBinary() { return std::string(STRATA_BINARY_DIR) + "/cli/strata"; }

/// A run of the strata executable with stdin from /dev/null (no terminal) and both output
/// streams captured, collected by a reader thread so that a test can wait for a line and
/// kill the process at that point.
class StrataProcess {
public:
  explicit StrataProcess(const std::vector<std::string> &args) {
    int out[2], err[2];
    if (pipe(out) != 0 || pipe(err) != 0) {
      ADD_FAILURE() << "pipe: " << std::strerror(errno);
      return;
    }
    // Built before fork: the child only calls async-signal-safe functions.
    std::string binary = strataBinary();
    std::vector<std::string> all = {binary};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (std::string &a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    started = std::chrono::steady_clock::now();
    pid = fork();
    if (pid == 0) {
      int devnull = open("/dev/null", O_RDONLY);
      dup2(devnull, STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      close(out[0]);
      close(err[0]);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
      ADD_FAILURE() << "fork: " << std::strerror(errno);
      close(out[0]);
      close(err[0]);
      return;
    }
    reader = std::thread([this, o = out[0], e = err[0]] { readAll(o, e); });
  }

  ~StrataProcess() {
    if (pid > 0 && !reaped) {
      ::kill(pid, SIGKILL);
      wait();
    }
  }
  StrataProcess(const StrataProcess &) = delete;
  StrataProcess &operator=(const StrataProcess &) = delete;

  pid_t id() const { return pid; }

  /// Waits until stdout contains \p text; false after \p timeout (or when the process
  /// ended without printing it).
  bool waitForOutput(const std::string &text, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, timeout, [&] {
      return out.find(text) != std::string::npos || eof;
    }) && out.find(text) != std::string::npos;
  }

  void kill(int signal = SIGKILL) {
    if (pid > 0 && !reaped)
      ::kill(pid, signal);
  }

  struct Outcome {
    int exitCode = -1; ///< -1: killed by a signal (see signal)
    int signal = 0;
    std::string out, err;
    std::chrono::milliseconds elapsed{0};
  };

  /// Waits for the process to end.
  Outcome wait() {
    Outcome o;
    if (pid <= 0)
      return o;
    if (reader.joinable())
      reader.join();
    int status = 0;
    if (!reaped) {
      waitpid(pid, &status, 0);
      reaped = true;
      ended = std::chrono::steady_clock::now();
      lastStatus = status;
    }
    status = lastStatus;
    if (WIFEXITED(status))
      o.exitCode = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
      o.signal = WTERMSIG(status);
    std::lock_guard<std::mutex> lock(mutex);
    o.out = out;
    o.err = err;
    o.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(ended - started);
    return o;
  }

  /// Whether the process has closed its output: it has ended (or is about to).
  bool outputClosed() {
    std::lock_guard<std::mutex> lock(mutex);
    return eof;
  }

  std::string stdoutSoFar() {
    std::lock_guard<std::mutex> lock(mutex);
    return out;
  }

private:
  void readAll(int o, int e) {
    pollfd fds[2] = {{o, POLLIN, 0}, {e, POLLIN, 0}};
    int remaining = 2;
    char buffer[4096];
    while (remaining > 0) {
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR)
          continue;
        break;
      }
      for (pollfd &fd : fds) {
        if (fd.fd < 0 || !(fd.revents & (POLLIN | POLLHUP | POLLERR)))
          continue;
        ssize_t n = read(fd.fd, buffer, sizeof(buffer));
        if (n <= 0) {
          close(fd.fd);
          fd.fd = -1;
          --remaining;
          continue;
        }
        std::lock_guard<std::mutex> lock(mutex);
        (fd.fd == o ? out : err).append(buffer, static_cast<size_t>(n));
        changed.notify_all();
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    eof = true;
    changed.notify_all();
  }

  pid_t pid = -1;
  bool reaped = false;
  int lastStatus = 0;
  std::chrono::steady_clock::time_point started, ended;
  std::thread reader;
  std::mutex mutex;
  std::condition_variable changed;
  std::string out, err;
  bool eof = false;
};

/// A strata run as text for a failed assertion: exit status, time, stdout and stderr.
inline std::string show(const StrataProcess::Outcome &o) {
  std::ostringstream os;
  os << "exit " << o.exitCode;
  if (o.signal)
    os << " (signal " << o.signal << ")";
  os << " after " << o.elapsed.count() << " ms\n--- stdout ---\n"
     << o.out << "--- stderr ---\n"
     << o.err;
  return os.str();
}

/// Runs strata to the end.
inline StrataProcess::Outcome runStrata(const std::vector<std::string> &args) {
  StrataProcess process(args);
  return process.wait();
}

} // namespace strata::test
