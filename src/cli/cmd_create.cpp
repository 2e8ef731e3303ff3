// opencim create: builds a standard or block CIM from a directory tree (see tree_import.h for how
// Linux files and metadata are represented).
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/display.h"
#include "cli/errors.h"
#include "cli/image_handle.h"
#include "cli/image_spec.h"
#include "cli/tree_import.h"

namespace cim::cli {

namespace {

struct CreateOptions {
    std::string block, name;
    bool consistent = false, verified = false, noSeal = false, quiet = false;
    std::vector<std::string> args;
};

// Splits "BLOCKFILE:NAME"; a DEST with no ':' (or with a '/' after its last ':') is a standard CIM.
bool splitBlockDest(const std::string& dest, std::string& path, std::string& name) {
    size_t colon = dest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == dest.size()) return false;
    if (dest.find('/', colon) != std::string::npos) return false;
    path = dest.substr(0, colon);
    name = dest.substr(colon + 1);
    return true;
}

std::string plural(uint64_t n, const char* one, const char* many) { return fmt::format("{} {}", n, n == 1 ? one : many); }

void run(const CreateOptions& o) {
    std::vector<std::string> args = o.args;
    bool block = !o.block.empty();
    std::string path, name;
    if (!o.name.empty() && !block) throw UsageError("--name needs --block");
    if (block) {
        if (o.name.empty()) throw UsageError("--block needs --name (the CIM's name inside the block file)");
        if (args.size() != 1) throw UsageError("with --block, give exactly one argument: SRC_DIR");
        path = o.block;
        name = o.name;
    } else {
        if (args.size() != 2) throw UsageError("expected DEST SRC_DIR (DEST is DIR/NAME.cim or BLOCKFILE:NAME)");
        const std::string& dest = args[0];
        if (splitBlockDest(dest, path, name)) {
            block = true;
        } else {
            size_t slash = dest.rfind('/');
            path = slash == std::string::npos ? "." : slash == 0 ? "/" : dest.substr(0, slash);
            name = slash == std::string::npos ? dest : dest.substr(slash + 1);
            if (name.empty()) throw UsageError(fmt::format("{}: DEST must name the image file (DIR/NAME.cim)", dest));
        }
    }
    const std::string& src = args.back();
    if (o.verified && !block) throw UsageError("--verified needs a block CIM (BLOCKFILE:NAME or --block)");
    if (o.noSeal && !o.verified) throw UsageError("--no-seal only makes sense with --verified");

    uint32_t flags = 0;
    if (block) flags |= isBlockDevice(path) ? CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM : CIM_CREATE_IMAGE_SINGLE_FILE_CIM;
    if (o.consistent) flags |= CIM_CREATE_IMAGE_CONSISTENT_CIM;
    if (o.verified) flags |= CIM_CREATE_IMAGE_VERIFIED_CIM;

    auto start = std::chrono::steady_clock::now();
    ImageHandle image;
    check(CimCreateImage2(path.c_str(), flags, nullptr, name.c_str(), image.out()), "CimCreateImage2");
    TreeImportStats st = importTree(image.get(), src);
    check(CimCommitImage(image.get()), "CimCommitImage");
    image.close();

    std::optional<std::string> rootHash;
    if (o.verified && !o.noSeal) {
        uint64_t hashSize = 0, headerSize = 0;
        uint8_t hash[32];
        check(CimSealImage(path.c_str(), &hashSize, &headerSize, hash), "CimSealImage");
        rootHash = toHex(std::span<const uint8_t>(hash, 32));
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!o.quiet) {
        std::printf("created %s: %s (%s, %s, %s, %s, %s), %s of data in %.2f s\n",
                    block ? (path + ":" + name).c_str() : (path + "/" + name).c_str(),
                    plural(st.entries(), "entry", "entries").c_str(), plural(st.directories, "directory", "directories").c_str(),
                    plural(st.files, "file", "files").c_str(), plural(st.symlinks, "symlink", "symlinks").c_str(),
                    plural(st.special, "special file", "special files").c_str(),
                    plural(st.hardLinks, "hard link", "hard links").c_str(), plural(st.bytes, "byte", "bytes").c_str(), secs);
    }
    if (rootHash) std::printf("root hash: %s\n", rootHash->c_str());
}

}  // namespace

void registerCreate(CLI::App& app) {
    auto o = std::make_shared<CreateOptions>();
    auto* cmd = app.add_subcommand("create", "Create a CIM from a directory tree");
    cmd->add_option("--block", o->block, "Block file or device to write the CIM into (instead of DEST)")->type_name("FILE");
    cmd->add_option("--name", o->name, "Name of the CIM inside the --block file")->type_name("NAME");
    cmd->add_flag("--consistent", o->consistent, "Reproducible output: the same tree gives byte-identical images");
    cmd->add_flag("--verified", o->verified, "Block CIMs: create for sealing, seal and print the root hash");
    cmd->add_flag("--no-seal", o->noSeal, "With --verified: leave the block file unsealed (seal later with 'opencim seal')");
    cmd->add_flag("-q,--quiet", o->quiet, "Print nothing but the root hash (with --verified)");
    cmd->add_option("ARGS", o->args, "DEST SRC_DIR, or SRC_DIR alone with --block")->required()->type_name("");
    cmd->footer(
        "DEST:\n"
        "  DIR/NAME.cim       standard CIM (DIR must exist, NAME.cim must not)\n"
        "  BLOCKFILE:NAME     CIM NAME in block file BLOCKFILE (created, or one more CIM added)\n"
        "Linux metadata (uid, gid, mode, device numbers) is stored as WSL $LX* extended\n"
        "attributes; symlinks, FIFOs, sockets and devices as WSL reparse points; hard links\n"
        "as CIM hard links. Names differing only in case in one directory are refused.");
    cmd->callback([o] { run(*o); });
}

}  // namespace cim::cli
