// opencim seal: seals a verified block file (CimSealImage) and prints its root hash.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/display.h"
#include "cli/errors.h"

namespace cim::cli {

namespace {

void run(const std::string& path) {
    uint64_t hashSize = 0, headerSize = 0;
    uint8_t hash[32];
    check(CimSealImage(path.c_str(), &hashSize, &headerSize, hash), "CimSealImage");
    std::printf("%s\n", toHex(std::span<const uint8_t>(hash, 32)).c_str());
}

}  // namespace

void registerSeal(CLI::App& app) {
    auto path = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("seal", "Seal a verified block file and print its root hash");
    cmd->add_option("BLOCKFILE", *path, "Block file created with --verified (sealing twice prints the same hash)")->required()->type_name("");
    cmd->callback([path] { run(*path); });
}

}  // namespace cim::cli
