// opencim: command-line frontend over libopencim. Every command lives in cmd_<name>.cpp and is
// listed once in kCommands below.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>

#include "cli/commands.h"
#include "cli/errors.h"

namespace {

using Register = void (*)(CLI::App&);

// In the order `opencim --help` lists them. Add new commands here (and to commands.h).
constexpr Register kCommands[] = {
    cim::cli::registerCreate, cim::cli::registerLs,    cim::cli::registerStat, cim::cli::registerCat,
    cim::cli::registerInfo,   cim::cli::registerMerge, cim::cli::registerSeal, cim::cli::registerVerify, cim::cli::registerRootfs,
    cim::cli::registerImport, cim::cli::registerExport, cim::cli::registerMount,
};

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int report(const char* message, int code) {
    std::fflush(stdout);
    std::fprintf(stderr, "opencim: %s\n", message);
    return code;
}

int usage(const char* message) {
    report(message, kExitUsage);
    std::fprintf(stderr, "Run with --help for more information.\n");
    return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"opencim: create, inspect, merge, seal and verify CimFS images"};
    app.name("opencim");
    app.require_subcommand(1);
    app.set_version_flag("--version", "opencim " + std::to_string(OPENCIM_VERSION_MAJOR) + "." +
                                          std::to_string(OPENCIM_VERSION_MINOR) + "." +
                                          std::to_string(OPENCIM_VERSION_PATCH));
    for (Register r : kCommands) r(app);
    try {
        app.parse(argc, argv);
        std::fflush(stdout);
        if (std::ferror(stdout)) return report("error writing to standard output", kExitFailure);
        return 0;
    } catch (const CLI::Success& e) {
        return app.exit(e);  // --help, --version
    } catch (const CLI::ParseError& e) {
        if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
            return usage(("unknown command '" + std::string(argv[1]) + "'").c_str());
        }
        return usage(e.what());
    } catch (const cim::cli::UsageError& e) {
        return usage(e.what());
    } catch (const cim::Error& e) {
        return report(e.what(), kExitFailure);
    } catch (const std::bad_alloc&) {
        return report("out of memory", kExitFailure);
    } catch (const std::exception& e) {
        return report(e.what(), kExitFailure);
    }
}
