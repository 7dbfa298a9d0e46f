// jemalloc's settings for the strata executable, read by jemalloc at its first allocation
// through this documented global (see jemalloc(3), "malloc_conf"). Only linked when the
// executable uses jemalloc (STRATA_JEMALLOC, cli/CMakeLists.txt).
//
// A run of strata is short and allocates a few hundred MB at most: freed pages are kept
// for reuse rather than given back to the kernel (decay -1), and jemalloc's extents
// ask for transparent huge pages, so that first-touching 140 MB costs about 2,500 page
// faults instead of 35,000. Measured in docs/performance.md ("Fixes and their effect").
extern "C" {
// NOLINTNEXTLINE(readability-identifier-naming): the name is jemalloc's.
extern const char *malloc_conf;
const char *malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,thp:always,metadata_thp:always";
}
