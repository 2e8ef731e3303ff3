// opencim import: an OCI layer tar (plain, gzip, zstd, xz, bzip2, lz4; file or "-" for stdin) into
// a new single-file block CIM (CimImportLayer). Prints a one-line summary on stdout.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/display.h"
#include "cli/errors.h"
#include "cli/image_spec.h"

namespace cim::cli {

namespace {

struct Args {
    std::string tar, target, format = "auto";
    bool verified = false, vhd = false, progress = false;
    unsigned threads = 0;
    uint64_t maxUncompressed = 0;
    std::vector<std::string> parents;
};

// "BLOCKFILE[:NAME]" for a block file that does not exist yet: split at the last ':' when what
// follows names a CIM (no '/'); NAME defaults to layer.cim (containerd's name for layer CIMs).
std::pair<std::string, std::string> splitTarget(const std::string& t) {
    size_t c = t.rfind(':');
    if (c != std::string::npos && c > 0 && c + 1 < t.size() && t.find('/', c) == std::string::npos) {
        return {t.substr(0, c), t.substr(c + 1)};
    }
    return {t, "layer.cim"};
}

void run(const Args& a) {
    CIMFS_IMPORT_OPTIONS o;
    std::memset(&o, 0, sizeof o);
    o.Size = sizeof o;
    o.Flags = (a.verified ? CIM_IMPORT_VERIFIED : 0) | (a.vhd ? CIM_IMPORT_VHD_FOOTER : 0) | (a.progress ? CIM_IMPORT_PROGRESS : 0);
    o.LayerFormat = a.format == "windows" ? CIM_LAYER_FORMAT_WINDOWS : a.format == "linux" ? CIM_LAYER_FORMAT_LINUX : CIM_LAYER_FORMAT_AUTO;
    o.Threads = a.threads;
    o.MaxUncompressedBytes = a.maxUncompressed;
    std::vector<BlockRef> refs;
    for (const auto& p : a.parents) refs.push_back(parseBlockRef(p));
    std::vector<CIMFS_IMAGE_PATH> parents;
    for (const auto& r : refs) parents.push_back({r.path.c_str(), r.name.c_str()});
    o.NumParentLayers = static_cast<uint32_t>(parents.size());
    o.ParentLayers = parents.empty() ? nullptr : parents.data();
    auto [block, name] = splitTarget(a.target);
    CIMFS_IMPORT_RESULT r;
    std::memset(&r, 0, sizeof r);
    r.Size = sizeof r;
    check(CimImportLayer(a.tar.c_str(), block.c_str(), name.c_str(), &o, &r), "CimImportLayer");
    std::printf("%s:%s: %llu entries, %llu bytes of file data", block.c_str(), name.c_str(), (unsigned long long)r.Entries,
                (unsigned long long)r.DataBytes);
    if (a.verified) std::printf(", root hash %s", toHex(std::span<const uint8_t>(r.RootHash, 32)).c_str());
    std::printf("\n");
}

}  // namespace

void registerImport(CLI::App& app) {
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("import", "Import an OCI layer tar into a new single-file block CIM");
    cmd->add_option("TAR", a->tar, "Layer tar: plain, gzip, zstd, xz, bzip2 or lz4 (detected); - for stdin")->required()->type_name("");
    cmd->add_option("BLOCKFILE[:NAME]", a->target, "New block file, and the CIM's name in it (default layer.cim)")->required()->type_name("");
    cmd->add_option("--format", a->format, "Layer format: windows, linux or auto (Files/ or Hives/ at the root: windows)")
        ->check(CLI::IsMember({"auto", "windows", "linux"}))
        ->type_name("FMT");
    cmd->add_flag("--verified", a->verified, "Seal the block file and write integrity_checksum beside it");
    cmd->add_flag("--vhd-footer", a->vhd, "Append a fixed VHD footer");
    cmd->add_option("--threads", a->threads, "Threads (0: one per CPU; the output never depends on it)")->type_name("N");
    cmd->add_flag("--progress", a->progress, "Show a progress bar when stderr is a terminal");
    cmd->add_option("--max-uncompressed", a->maxUncompressed, "Refuse archives expanding beyond BYTES (default 1 TiB)")->type_name("BYTES");
    cmd->add_option("--parent", a->parents, "Parent layer BLOCKFILE[:NAME], topmost first (repeat); none = base layer")->type_name("LAYER");
    cmd->callback([a] { run(*a); });
}

}  // namespace cim::cli
