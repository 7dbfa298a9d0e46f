#include "compiler/Analyzer.h"

#include "compiler/Diagnostics.h"
#include "compiler/Fold.h"
#include "compiler/Naming.h"
#include "compiler/Parallel.h"
#include "compiler/SqlExpr.h"
#include "compiler/Types.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/StringMap.h>
#include <llvm/Support/Casting.h>

#include <fmt/format.h>

#include <set>
#include <tuple>

namespace strata::compiler {

namespace {

enum class FoldState { NotStarted, InProgress, Done, Failed };

class Analyzer {
public:
  explicit Analyzer(DiagnosticsEngine &diags) : diags(diags) {}

  std::optional<Project> run(llvm::ArrayRef<const SourceFile *> files) {
    declareSubsystems(files);
    for (unsigned s = 0; s < project.subsystems.size(); ++s)
      declareVersions(s);
    for (unsigned s = 0; s < project.subsystems.size(); ++s)
      resolveRequirements(s);
    // Folding goes on after declaration errors: the versions that were declared are
    // checked too, so that one run reports every problem.
    foldState.resize(project.subsystems.size());
    for (unsigned s = 0; s < project.subsystems.size(); ++s)
      foldState[s].assign(project.subsystems[s].versions.size(), FoldState::NotStarted);
    for (unsigned s = 0; s < project.subsystems.size(); ++s)
      for (unsigned v = 0; v < project.subsystems[s].versions.size(); ++v)
        fold({s, v});
    if (!diags.hasErrors())
      checkDropsOfReferencedTables();
    if (diags.hasErrors())
      return std::nullopt;
    // Each version's checksum (SHA-256 of its normalised Ops) depends on that version
    // alone: computed on every core once all are folded.
    std::vector<Version *> versions;
    for (Subsystem &subsystem : project.subsystems)
      for (Version &version : subsystem.versions)
        versions.push_back(&version);
    parallelFor(versions.size(), [&](size_t i, unsigned) {
      versions[i]->checksum = checksumOf(*versions[i]);
    });
    return std::move(project);
  }

private:
  // --- declarations -------------------------------------------------------------------

  void declareSubsystems(llvm::ArrayRef<const SourceFile *> files) {
    llvm::StringMap<unsigned> seen;
    for (const SourceFile *file : files) {
      for (const SubsystemDecl *decl : file->subsystems) {
        auto [it, inserted] = seen.try_emplace(decl->name.text, decls.size());
        if (!inserted) {
          diags.report(DiagID::ErrDuplicateSubsystem, decl->name.range, decl->name.text.str())
              .note(DiagID::NotePreviousDefinition, decls[it->second]->name.range);
          continue;
        }
        decls.push_back(decl);
        Subsystem subsystem;
        subsystem.name = decl->name.text.str();
        subsystem.range = decl->name.range;
        project.subsystems.push_back(std::move(subsystem));
      }
    }
  }

  void declareVersions(unsigned s) {
    const SubsystemDecl *decl = decls[s];
    Subsystem &subsystem = project.subsystems[s];
    versionDecls.emplace_back();
    invalidVersions.emplace_back();
    if (decl->versions.empty()) {
      diags.report(DiagID::ErrEmptySubsystem, decl->name.range, subsystem.name);
      return;
    }
    llvm::StringMap<unsigned> byText;
    for (const VersionDecl *vd : decl->versions) {
      llvm::Expected<SemVer> semver = SemVer::parse(vd->version);
      bool invalid = !semver;
      if (invalid) {
        // Declared all the same, so that its children and its statements are checked
        // rather than reported as having an unknown parent or naming unknown tables.
        diags.report(DiagID::ErrInvalidSemver, vd->versionRange, vd->version.str(),
                     llvm::toString(semver.takeError()));
        semver = SemVer();
      }
      auto [it, inserted] = byText.try_emplace(vd->version, subsystem.versions.size());
      if (!inserted) {
        diags.report(DiagID::ErrDuplicateVersion, vd->versionRange, vd->version.str(),
                     subsystem.name)
            .note(DiagID::NotePreviousDefinition, versionDecls[s][it->second]->versionRange);
        continue;
      }
      Version version;
      version.text = vd->version.str();
      version.semver = std::move(*semver);
      version.range = vd->range;
      version.nameRange = vd->versionRange;
      unsigned index = static_cast<unsigned>(subsystem.versions.size());
      if (invalid)
        invalidVersions[s].insert(index);
      if (!vd->explicitParents) {
        if (index > 0) {
          version.parents.push_back(index - 1);
          reportOutOfOrder(s, version, invalid);
        }
      } else {
        for (const ParentRef &parent : vd->parents) {
          if (parent.version == vd->version) {
            diags.report(DiagID::ErrSelfParent, parent.range, parent.version.str());
            continue;
          }
          auto found = byText.find(parent.version);
          if (found == byText.end()) {
            bool later = llvm::any_of(decl->versions, [&](const VersionDecl *other) {
              return other->version == parent.version;
            });
            if (later)
              diags.report(DiagID::ErrParentDeclaredLater, parent.range, parent.version.str(),
                           vd->version.str());
            else
              diags.report(DiagID::ErrUnknownParent, parent.range, parent.version.str(),
                           subsystem.name);
            continue;
          }
          if (llvm::is_contained(version.parents, found->second)) {
            diags.report(DiagID::ErrDuplicateParent, parent.range, parent.version.str());
            continue;
          }
          version.parents.push_back(found->second);
        }
      }
      subsystem.versions.push_back(std::move(version));
      versionDecls[s].push_back(vd);
    }
    if (!decl->baseline.empty()) {
      if (auto found = byText.find(decl->baseline); found != byText.end())
        subsystem.baseline = found->second;
      else
        diags.report(DiagID::ErrUnknownBaseline, decl->baselineRange, decl->baseline.str(),
                     subsystem.name);
    }
  }

  /// Fix: a `version "1.0.1"` written after "1.1.0" silently became its child, with every
  /// change of 1.1.0 in it. An error rather than a warning: the guess is almost never what
  /// was meant (a patch of an older release line), and once a database has run it the
  /// history cannot change. `after` says either meaning explicitly.
  void reportOutOfOrder(unsigned s, const Version &version, bool invalid) {
    const Subsystem &subsystem = project.subsystems[s];
    const Version &previous = subsystem.versions.back();
    if (invalid || invalidVersions[s].count(subsystem.versions.size() - 1) ||
        !(version.semver < previous.semver))
      return;
    const Version *branch = nullptr; // the highest version declared so far below this one
    for (const Version &v : subsystem.versions)
      if (v.semver < version.semver && (!branch || branch->semver < v.semver))
        branch = &v;
    std::string advice =
        branch ? fmt::format("write 'after \"{}\"' to make it follow \"{}\", or 'after \"{}\"' "
                             "if it does follow \"{}\"",
                             branch->text, branch->text, previous.text, previous.text)
               : fmt::format("write 'after \"{}\"' if it does follow \"{}\"", previous.text,
                             previous.text);
    diags
        .report(DiagID::ErrVersionBelowImplicitParent, version.nameRange, version.text,
                previous.text, advice)
        .note(DiagID::NoteImplicitParent, previous.nameRange, previous.text);
  }

  std::optional<ResolvedRequirement> resolve(unsigned s, const Requirement &req) {
    auto target = project.findSubsystem(req.subsystem.text);
    if (!target) {
      diags.report(DiagID::ErrUnknownSubsystem, req.subsystem.range, req.subsystem.text.str());
      return std::nullopt;
    }
    if (*target == s) {
      diags.report(DiagID::ErrRequiresSelf, req.subsystem.range, req.subsystem.text.str());
      return std::nullopt;
    }
    ResolvedRequirement out;
    out.subsystem = *target;
    out.range = req.range;
    bool ok = true;
    for (const VersionBound &bound : req.bounds) {
      llvm::Expected<SemVer> v = SemVer::parse(bound.version);
      if (!v) {
        diags.report(DiagID::ErrInvalidSemver, bound.versionRange, bound.version.str(),
                     llvm::toString(v.takeError()));
        ok = false;
        continue;
      }
      out.bounds.push_back({bound.op, *v});
    }
    if (!ok)
      return std::nullopt;
    const Subsystem &required = project.subsystems[*target];
    std::optional<unsigned> lowest;
    for (unsigned i = 0; i < required.versions.size(); ++i)
      if (!invalidVersions[*target].contains(i) && out.satisfiedBy(required.versions[i].semver) &&
          (!lowest || required.versions[i].semver < required.versions[*lowest].semver))
        lowest = i;
    if (!lowest && !invalidVersions[*target].empty())
      return std::nullopt; // some versions could not be compared: already reported
    if (!lowest) {
      llvm::StringRef text(req.range.Start.getPointer(),
                           req.range.End.getPointer() - req.range.Start.getPointer());
      diags.report(DiagID::ErrNoVersionSatisfies, req.range, required.name, text.str())
          .note(DiagID::NoteDeclaredHere, required.range);
      return std::nullopt;
    }
    out.lowest = *lowest;
    return out;
  }

  /// Effective requirements of each version: its own, else the nearest parent's, else the
  /// subsystem's, per required subsystem.
  void resolveRequirements(unsigned s) {
    const SubsystemDecl *decl = decls[s];
    Subsystem &subsystem = project.subsystems[s];
    std::vector<ResolvedRequirement> base;
    auto addUnique = [&](std::vector<ResolvedRequirement> &list, const Requirement &req,
                         llvm::StringMap<SourceRange> &seen) {
      if (auto [it, inserted] = seen.try_emplace(req.subsystem.text, req.subsystem.range);
          !inserted) {
        diags.report(DiagID::ErrDuplicateRequires, req.subsystem.range, req.subsystem.text.str())
            .note(DiagID::NotePreviousDefinition, it->second);
        return;
      }
      if (auto r = resolve(s, req))
        list.push_back(std::move(*r));
    };
    llvm::StringMap<SourceRange> seenBase;
    for (const Requirement *req : decl->requirements)
      addUnique(base, *req, seenBase);
    for (unsigned v = 0; v < subsystem.versions.size(); ++v) {
      Version &version = subsystem.versions[v];
      std::vector<ResolvedRequirement> own;
      llvm::StringMap<SourceRange> seenOwn;
      for (const Requirement *req : versionDecls[s][v]->requirements)
        addUnique(own, *req, seenOwn);
      std::vector<ResolvedRequirement> effective = own;
      auto merge = [&](const std::vector<ResolvedRequirement> &from) {
        for (const ResolvedRequirement &r : from)
          if (llvm::none_of(effective, [&](const ResolvedRequirement &e) {
                return e.subsystem == r.subsystem;
              }))
            effective.push_back(r);
      };
      for (unsigned p : version.parents)
        merge(subsystem.versions[p].requirements);
      merge(base);
      version.requirements = std::move(effective);
    }
  }

  /// A table one subsystem drops while a version of another one that may run alongside
  /// the drop (its requirement accepts the dropping version) still references it with a
  /// foreign key: PostgreSQL refuses DROP TABLE on a referenced table, so finish would
  /// fail. An error at the drop, with notes at the foreign key and the requirement. (Within
  /// one subsystem, folding refuses it: E223.) Only projects that drop tables pay for the
  /// scan.
  void checkDropsOfReferencedTables() {
    struct Drop {
      unsigned subsystem, version;
      SourceRange range;
    };
    llvm::StringMap<std::vector<Drop>> drops;
    for (unsigned s = 0; s < project.subsystems.size(); ++s)
      for (unsigned v = 0; v < project.subsystems[s].versions.size(); ++v)
        for (const Op &op : project.subsystems[s].versions[v].ops)
          if (op.kind == OpKind::DropTable)
            drops[op.table].push_back({s, v, op.range});
    if (drops.empty())
      return;
    // One error per drop and referencing subsystem, at its first version that conflicts.
    std::set<std::tuple<unsigned, unsigned, unsigned>> reported;
    for (unsigned s = 0; s < project.subsystems.size(); ++s)
      for (const Version &version : project.subsystems[s].versions)
        for (const auto &[name, table] : version.state.tables())
          for (const Constraint &c : table->constraints) {
            if (c.kind != ConstraintKind::ForeignKey)
              continue;
            auto found = drops.find(c.refTable);
            if (found == drops.end())
              continue;
            for (const Drop &d : found->second) {
              if (d.subsystem == s || reported.count({d.subsystem, d.version, s}))
                continue;
              const Subsystem &owner = project.subsystems[d.subsystem];
              auto req = llvm::find_if(version.requirements, [&](const ResolvedRequirement &r) {
                return r.subsystem == d.subsystem;
              });
              if (req == version.requirements.end() ||
                  !req->satisfiedBy(owner.versions[d.version].semver))
                continue;
              reported.insert({d.subsystem, d.version, s});
              diags
                  .report(DiagID::ErrDropTableReferencedElsewhere, d.range, c.refTable,
                          project.subsystems[s].name + "@" + version.text, c.name, name,
                          owner.versions[d.version].text)
                  .note(DiagID::NoteDeclaredHere, c.range)
                  .note(DiagID::NoteRequiredHere, req->range);
            }
          }
  }

  // --- folding --------------------------------------------------------------------------

  /// Folds one version (after its parents and the versions it requires). Returns false
  /// when it could not be folded.
  bool fold(VersionRef ref) {
    FoldState &state = foldState[ref.subsystem][ref.version];
    if (state == FoldState::Done)
      return true;
    if (state == FoldState::Failed)
      return false;
    Subsystem &subsystem = project.subsystems[ref.subsystem];
    Version &version = subsystem.versions[ref.version];
    if (state == FoldState::InProgress) {
      // The edges from `ref` back to itself are on the stack: name the cycle, with a note
      // at each edge's declaration.
      auto first = llvm::find_if(foldStack, [&](const Edge &e) { return e.from == ref; });
      std::string path;
      for (auto it = first; it != foldStack.end(); ++it)
        path += project.describe(it->from) + " -> ";
      path += project.describe(ref);
      auto builder = diags.report(DiagID::ErrRequiresCycle, version.nameRange, path);
      for (auto it = first; it != foldStack.end(); ++it)
        builder.note(DiagID::NoteRequiredHere, it->range);
      state = FoldState::Failed;
      return false;
    }
    state = FoldState::InProgress;
    bool ok = true;
    for (unsigned p : version.parents) {
      foldStack.push_back({ref, version.nameRange});
      ok &= fold({ref.subsystem, p});
      foldStack.pop_back();
    }
    std::vector<const Schema *> visible;
    std::vector<std::string> visibleNames;
    for (const ResolvedRequirement &req : version.requirements) {
      VersionRef target{req.subsystem, req.lowest};
      foldStack.push_back({ref, req.range});
      bool folded = fold(target);
      foldStack.pop_back();
      if (!folded) {
        ok = false;
        continue;
      }
      visible.push_back(&project.at(target).state);
      visibleNames.push_back(project.subsystems[req.subsystem].name);
    }
    if (!ok) {
      foldState[ref.subsystem][ref.version] = FoldState::Failed;
      return false;
    }
    Schema start;
    if (version.parents.size() == 1) {
      start = subsystem.versions[version.parents[0]].state;
    } else if (version.parents.size() > 1) {
      std::vector<const Schema *> parentStates;
      for (unsigned p : version.parents)
        parentStates.push_back(&subsystem.versions[p].state);
      start = mergeParents(ref, parentStates);
    }
    FoldContext context{diags,          project.subsystems[ref.subsystem].name,
                        version.text,   visible,
                        visibleNames,   globalTables,
                        ref.subsystem,  project};
    Folder folder(context, std::move(start));
    for (const Stmt *stmt : versionDecls[ref.subsystem][ref.version]->stmts)
      folder.lower(*stmt);
    version.ops = folder.takeOps();
    version.state = folder.takeState();
    foldState[ref.subsystem][ref.version] = FoldState::Done;
    return true;
  }

  /// The merge of several release branches: a three-way merge against their nearest
  /// common ancestor, element by element; the same element changed differently on two
  /// branches is an error with both places.
  Schema mergeParents(VersionRef ref, const std::vector<const Schema *> &parents) {
    const Subsystem &subsystem = project.subsystems[ref.subsystem];
    const Version &version = subsystem.versions[ref.version];
    // The nearest common ancestor: the latest-declared version that is an ancestor of
    // every parent.
    auto ancestors = [&](unsigned v) {
      std::vector<bool> out(subsystem.versions.size(), false);
      std::vector<unsigned> stack{v};
      while (!stack.empty()) {
        unsigned cur = stack.back();
        stack.pop_back();
        if (out[cur])
          continue;
        out[cur] = true;
        for (unsigned p : subsystem.versions[cur].parents)
          stack.push_back(p);
      }
      return out;
    };
    std::vector<bool> common(subsystem.versions.size(), true);
    for (unsigned p : version.parents) {
      std::vector<bool> a = ancestors(p);
      for (size_t i = 0; i < common.size(); ++i)
        common[i] = common[i] && a[i];
    }
    Schema base;
    for (size_t i = common.size(); i-- > 0;)
      if (common[i]) {
        base = subsystem.versions[i].state;
        break;
      }
    Schema merged = *parents[0];
    for (size_t i = 1; i < parents.size(); ++i)
      merged = threeWayMerge(base, merged, *parents[i], version);
    return merged;
  }

  template <typename T>
  bool sameOrBothAbsent(const T *a, const T *b) {
    if (!a || !b)
      return a == b;
    return *a == *b;
  }

  /// Picks the side that changed relative to \p base; reports a conflict when both did.
  template <typename T>
  const T *pick(const T *base, const T *left, const T *right, const Version &version,
                const std::string &what) {
    if (sameOrBothAbsent(left, right))
      return left;
    if (sameOrBothAbsent(base, left))
      return right;
    if (sameOrBothAbsent(base, right))
      return left;
    auto builder = diags.report(DiagID::ErrMergeConflict, version.nameRange, version.text, what);
    if (left)
      builder.note(DiagID::NoteChangedHere, left->range);
    if (right)
      builder.note(DiagID::NoteChangedHere, right->range);
    return left;
  }

  template <typename T>
  std::vector<T> mergeList(const std::vector<T> *base, const std::vector<T> &left,
                           const std::vector<T> &right, const Version &version,
                           const std::string &tableName, const char *kind) {
    auto find = [](const std::vector<T> *list, const std::string &name) -> const T * {
      if (!list)
        return nullptr;
      for (const T &item : *list)
        if (item.name == name)
          return &item;
      return nullptr;
    };
    std::vector<std::string> names;
    for (const T &item : left)
      names.push_back(item.name);
    for (const T &item : right)
      if (!llvm::is_contained(names, item.name))
        names.push_back(item.name);
    if (base)
      for (const T &item : *base)
        if (!llvm::is_contained(names, item.name))
          names.push_back(item.name);
    std::vector<T> out;
    for (const std::string &name : names) {
      const T *chosen = pick(find(base, name), find(&left, name), find(&right, name), version,
                             fmt::format("{} \"{}\" of table \"{}\"", kind, name, tableName));
      if (chosen)
        out.push_back(*chosen);
    }
    return out;
  }

  Schema threeWayMerge(const Schema &base, const Schema &left, const Schema &right,
                       const Version &version) {
    Schema out;
    std::vector<std::string> names;
    for (const auto &[name, _] : left.tables())
      names.push_back(name);
    for (const auto &[name, _] : right.tables())
      names.push_back(name);
    for (const auto &[name, _] : base.tables())
      names.push_back(name);
    llvm::sort(names);
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (const std::string &name : names) {
      const Table *b = base.findTable(name), *l = left.findTable(name), *r = right.findTable(name);
      if (sameOrBothAbsent(l, r) || sameOrBothAbsent(b, r)) {
        if (l)
          out.putTable(*l);
        continue;
      }
      if (sameOrBothAbsent(b, l)) {
        if (r)
          out.putTable(*r);
        continue;
      }
      if (!l || !r) {
        // Dropped on one branch, changed on the other.
        pick(b, l, r, version, fmt::format("table \"{}\"", name));
        if (l)
          out.putTable(*l);
        continue;
      }
      Table merged = *l;
      merged.columns = mergeList(b ? &b->columns : nullptr, l->columns, r->columns, version, name,
                                 "column");
      merged.constraints = mergeList(b ? &b->constraints : nullptr, l->constraints,
                                     r->constraints, version, name, "constraint");
      merged.indexes = mergeList(b ? &b->indexes : nullptr, l->indexes, r->indexes, version,
                                 name, "index");
      out.putTable(std::move(merged));
    }
    std::vector<std::string> enumNames;
    for (const auto &[name, _] : left.enums())
      enumNames.push_back(name);
    for (const auto &[name, _] : right.enums())
      enumNames.push_back(name);
    for (const auto &[name, _] : base.enums())
      enumNames.push_back(name);
    llvm::sort(enumNames);
    enumNames.erase(std::unique(enumNames.begin(), enumNames.end()), enumNames.end());
    for (const std::string &name : enumNames)
      if (const EnumType *e = pick(base.findEnum(name), left.findEnum(name), right.findEnum(name),
                                   version, fmt::format("type \"{}\"", name)))
        out.putEnum(*e);
    for (const SqlObject &o : left.sql())
      out.addSqlObject(o);
    for (const SqlObject &o : right.sql())
      if (!llvm::is_contained(left.sql(), o))
        out.addSqlObject(o);
    return out;
  }

  /// A dependency being followed while folding: `from` needs the version being folded;
  /// `range` is where that dependency is declared.
  struct Edge {
    VersionRef from;
    SourceRange range;
  };
  std::vector<Edge> foldStack;

  DiagnosticsEngine &diags;
  Project project;
  std::vector<const SubsystemDecl *> decls;
  std::vector<std::vector<const VersionDecl *>> versionDecls;
  /// Per subsystem, the versions whose version string is not a semantic version.
  std::vector<llvm::DenseSet<unsigned>> invalidVersions;
  std::vector<std::vector<FoldState>> foldState;
  llvm::StringMap<TableOwner> globalTables;
};

} // namespace

std::optional<Project> analyze(llvm::ArrayRef<const SourceFile *> files,
                               DiagnosticsEngine &diags) {
  Analyzer analyzer(diags);
  return analyzer.run(files);
}

} // namespace strata::compiler
