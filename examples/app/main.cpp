// gateway_node: what a node of an application does at start with libstrata. It checks the
// database before it serves, as Kong nodes do: it refuses to start on a database that
// needs bootstrap, that has not run its versions' `up`, or that has finished a newer
// version; it starts when the database is up to date or inside a blue/green window.
//
//   gateway_node [CONNINFO]     (default: the PG* environment variables)
//
// Prints the verdict and exits with strata::exitCode(verdict): 0 when it may start.
#include <strata/strata.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  std::vector<std::string> versions;
  std::stringstream list(APP_VERSIONS);
  for (std::string item; std::getline(list, item, ',');)
    versions.push_back(item);

  std::string conninfo = argc > 1 ? argv[1] : "";
  strata::Compatibility c = strata::checkCompatibility(conninfo, versions);
  std::cout << "gateway_node " << APP_VERSIONS << " (libstrata " << strata::libraryVersion()
            << "): " << strata::verdictName(c.verdict) << "\n";
  for (const strata::SubsystemCheck &s : c.subsystems)
    std::cout << "  " << s.reason << "\n";
  if (!c.mayStart()) {
    std::cerr << "gateway_node: not starting: " << c.reason << "\n";
    return strata::exitCode(c.verdict);
  }
  std::cout << "gateway_node: starting" << (c.window ? " (blue/green window)" : "") << "\n";
  // ... serve ...
  return 0;
}
