// One register function per `opencim` subcommand, each defined in cmd_<name>.cpp. A command adds
// its subcommand to the app and installs a callback that does the work; failures are thrown
// (cim::Error -> exit 1, UsageError -> exit 2) and reported by main().
#pragma once
#include <CLI/CLI.hpp>

namespace cim::cli {

void registerCreate(CLI::App& app);
void registerLs(CLI::App& app);
void registerStat(CLI::App& app);
void registerCat(CLI::App& app);
void registerInfo(CLI::App& app);
void registerMerge(CLI::App& app);
void registerSeal(CLI::App& app);
void registerVerify(CLI::App& app);
void registerMount(CLI::App& app);  // mount + unmount (cmd_mount.cpp)
void registerRootfs(CLI::App& app);
void registerImport(CLI::App& app);
void registerExport(CLI::App& app);

}  // namespace cim::cli
