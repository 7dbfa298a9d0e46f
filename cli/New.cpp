// `strata new`: scaffolding for plugin authors. What it writes compiles (`strata check`)
// and is already in the canonical layout (`strata fmt --check`).
#include "cli/Commands.h"
#include "cli/Sources.h"

#include "compiler/Compilation.h"
#include "compiler/Printer.h"
#include "compiler/SemVer.h"

#include <llvm/ADT/SmallString.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/Path.h>

#include <fmt/format.h>

#include <cassert>

namespace strata::cli {

namespace {

/// A subsystem name that needs no quoting and makes a plain file name.
bool isPlainName(llvm::StringRef name) {
  return !name.empty() && name.size() <= 63 && compiler::quoteIdent(name) == name;
}

bool validVersion(llvm::StringRef text, llvm::raw_ostream &err) {
  llvm::Expected<compiler::SemVer> v = compiler::SemVer::parse(text);
  if (v)
    return true;
  err << "strata: error: \"" << text << "\" is not a version: " << llvm::toString(v.takeError())
      << "\n";
  return false;
}

std::string subsystemText(llvm::StringRef name, llvm::StringRef version) {
  return fmt::format(R"(// {0}: what this subsystem stores, and which part of the application owns it.
subsystem {0} {{
  // To reference another subsystem's tables (a foreign key to them, say), require it:
  //   requires core >= "1.0.0"

  // {1}: the first release. Each later release is a version block below this one that
  // holds only what changed; 'strata new version {0} X.Y.Z' adds one.
  version "{1}" {{
    // An example table: rename it, change it, or replace it with your own.
    table {0} {{
      id         uuid        primary key
      created_at timestamptz not null default (now())
    }}
  }}
}}
)",
                     name.str(), version.str());
}

std::string versionText(llvm::StringRef version, llvm::StringRef parent, bool explicitParent,
                        llvm::StringRef table) {
  std::string after = explicitParent ? fmt::format(" after \"{}\"", parent.str()) : "";
  return fmt::format(R"(
  // {0}: what changed since {1}, and why.
  version "{0}"{2} {{
    // Only what changes in this release, for example:
    //   alter table {3} {{
    //     add column note text
    //   }}
    //   table other {{
    //     id uuid primary key
    //   }}
    // 'strata check' compiles it; 'strata plan up' shows what the upgrade will execute.
  }}
)",
                     version.str(), parent.str(), after, table.str());
}

int newSubsystem(const NewOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  if (!isPlainName(options.subsystem)) {
    err << "strata: error: \"" << options.subsystem
        << "\" is not a plain name (lower-case letters, digits and '_', not a keyword)\n";
    return ExitUsage;
  }
  std::string version = options.version.empty() ? "1.0.0" : options.version;
  if (!validVersion(version, err))
    return ExitUsage;
  std::string dir = options.dir.empty() ? "." : options.dir;
  llvm::SmallString<128> path(dir);
  llvm::sys::path::append(path, options.subsystem + ".strata");
  if (llvm::sys::fs::exists(path)) {
    err << "strata: error: " << path << " exists; not overwritten\n";
    return ExitFailure;
  }
  if (llvm::sys::fs::is_directory(dir)) {
    // The subsystem may already be declared in another file of the project.
    compiler::Compilation compilation;
    if (llvm::Error e = compilation.addDirectory(dir)) {
      err << "strata: error: " << llvm::toString(std::move(e)) << "\n";
      return ExitFailure;
    }
    compilation.run();
    for (const compiler::SourceFile *file : compilation.files())
      for (const compiler::SubsystemDecl *decl : file->subsystems)
        if (decl->name.text == options.subsystem) {
          err << "strata: error: subsystem \"" << options.subsystem << "\" already exists in "
              << file->path << "\n";
          return ExitFailure;
        }
  } else if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    err << "strata: error: " << dir << ": " << ec.message() << "\n";
    return ExitFailure;
  }
  if (llvm::Error e = replaceFile(path, subsystemText(options.subsystem, version))) {
    err << "strata: error: " << llvm::toString(std::move(e)) << "\n";
    return ExitFailure;
  }
  out << "created " << path << "\n";
  return ExitOk;
}

int newVersion(const NewOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  if (!validVersion(options.version, err))
    return ExitUsage;
  compiler::SemVer wanted = *compiler::SemVer::parse(options.version);
  compiler::Compilation compilation;
  const compiler::Project *project =
      compileSources(compilation, {options.dir.empty() ? "." : options.dir}, options.color, err);
  if (!project) {
    err << "strata: error: the project does not compile; fix it before adding a version\n";
    return ExitFailure;
  }
  std::optional<unsigned> index = project->findSubsystem(options.subsystem);
  if (!index) {
    err << "strata: error: no subsystem \"" << options.subsystem << "\" in "
        << (options.dir.empty() ? "." : options.dir) << "\n";
    return ExitFailure;
  }
  const compiler::Subsystem &subsystem = project->subsystems[*index];
  std::optional<unsigned> parent;
  for (unsigned v = 0; v < subsystem.versions.size(); ++v) {
    const compiler::SemVer &semver = subsystem.versions[v].semver;
    if (semver == wanted) {
      err << "strata: error: " << options.subsystem << "@" << options.version
          << " exists already\n";
      return ExitFailure;
    }
    if (semver < wanted && (!parent || subsystem.versions[*parent].semver < semver))
      parent = v;
  }
  if (!parent) {
    err << "strata: error: " << options.version << " is older than every version of "
        << options.subsystem << "; a new version follows an existing one\n";
    return ExitFailure;
  }

  // The block goes at the end of the subsystem, before its closing brace. Its parent is
  // the highest older version: implied when that is the last block, written otherwise.
  const compiler::SubsystemDecl *decl = nullptr;
  for (const compiler::SourceFile *file : compilation.files())
    for (const compiler::SubsystemDecl *d : file->subsystems)
      if (d->name.text == options.subsystem)
        decl = d;
  assert(decl && "a compiled subsystem has a declaration");
  const llvm::SourceMgr &sources = compilation.sources();
  unsigned bufferId = sources.FindBufferContainingLoc(decl->range.Start);
  const llvm::MemoryBuffer *buffer = sources.getMemoryBuffer(bufferId);
  llvm::StringRef text = buffer->getBuffer();
  size_t close = decl->range.End.getPointer() - text.data();
  if (close == 0 || text[close - 1] != '}') {
    err << "strata: error: cannot find the end of subsystem \"" << options.subsystem << "\"\n";
    return ExitFailure;
  }
  --close;
  size_t lineStart = text.rfind('\n', close);
  lineStart = lineStart == llvm::StringRef::npos ? 0 : lineStart + 1;
  bool braceAlone = text.slice(lineStart, close).trim().empty();
  size_t at = braceAlone ? lineStart : close;

  const compiler::Version &parentVersion = subsystem.versions[*parent];
  bool explicitParent = *parent + 1 != subsystem.versions.size();
  const auto &tables = parentVersion.state.tables();
  std::string table = tables.empty() ? "my_table" : compiler::quoteIdent(tables.begin()->first);
  std::string block = versionText(options.version, parentVersion.text, explicitParent, table);
  std::string updated =
      (text.take_front(at) + (braceAlone ? "" : "\n") + block + text.drop_front(at)).str();
  llvm::StringRef path = buffer->getBufferIdentifier();
  if (llvm::Error e = replaceFile(path, updated)) {
    err << "strata: error: " << llvm::toString(std::move(e)) << "\n";
    return ExitFailure;
  }
  out << "added " << options.subsystem << "@" << options.version << " (after "
      << parentVersion.text << ") to " << path << "\n";
  return ExitOk;
}

} // namespace

int runNew(const NewOptions &options, llvm::raw_ostream &out, llvm::raw_ostream &err) {
  if (options.kind == "subsystem")
    return newSubsystem(options, out, err);
  if (options.kind == "version")
    return newVersion(options, out, err);
  err << "strata: error: expected 'new subsystem NAME' or 'new version SUBSYSTEM VERSION'\n";
  return ExitUsage;
}

} // namespace strata::cli
