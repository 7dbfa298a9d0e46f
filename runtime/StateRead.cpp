// The read side of StateStore that a node-start check needs (is the database bootstrapped,
// which nodes ran): kept apart from the rest of StateStore so that libstrata, the small
// library applications link, needs libpq and nothing of the compiler or the planner.
#include "runtime/StateStore.h"

namespace strata::runtime {

llvm::Expected<bool> StateStore::exists() {
  llvm::Expected<Result> r = conn.exec("SELECT to_regclass('strata_nodes') IS NOT NULL AND "
                                       "to_regclass('strata_steps') IS NOT NULL");
  if (!r)
    return r.takeError();
  return r->get(0, 0) == "t";
}

llvm::Expected<std::vector<NodeRecord>> StateStore::nodesIfAny() {
  llvm::Expected<bool> present = exists();
  if (!present)
    return present.takeError();
  if (!*present)
    return std::vector<NodeRecord>{};
  return nodes();
}

llvm::Expected<std::vector<NodeRecord>> StateStore::nodes() {
  llvm::Expected<Result> r = conn.exec(
      "SELECT subsystem, version, checksum, status, finish_ms IS NOT NULL, coalesce(client, '') "
      "FROM strata_nodes WHERE subsystem <> 'strata' ORDER BY subsystem, version");
  if (!r)
    return r.takeError();
  std::vector<NodeRecord> out;
  for (int i = 0; i < r->rows(); ++i)
    out.push_back({r->get(i, 0).str(), r->get(i, 1).str(), r->get(i, 2).str(),
                   r->get(i, 3) == "executed", r->get(i, 4) == "t", r->get(i, 5).str()});
  return out;
}

} // namespace strata::runtime
