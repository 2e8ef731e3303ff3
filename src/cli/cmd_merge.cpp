// opencim merge: builds a merged block CIM from block CIM sources (CimCreateImage2 +
// CimAddFsToMergedImage2 + CimCommitImage, then CimSealImage for --verified).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/display.h"
#include "cli/errors.h"
#include "cli/image_handle.h"
#include "cli/image_spec.h"
#include "io/file.h"

namespace cim::cli {

namespace {

constexpr const char* kDefaultMergedName = "merged.cim";

struct MergeOptions {
    std::string out;
    bool verified = false, quiet = false;
    std::vector<std::string> sources;
};

void run(const MergeOptions& o) {
    if (o.sources.size() < 2) throw UsageError("merge needs at least 2 sources (BLOCKFILE:NAME, topmost first)");
    // --out BLOCKFILE[:NAME]: an existing path is taken whole, else split at a final ":NAME".
    BlockRef out{o.out, kDefaultMergedName, false};
    size_t colon = o.out.rfind(':');
    if (!io::exists(o.out) && colon != std::string::npos && colon > 0 && colon + 1 < o.out.size() &&
        o.out.find('/', colon) == std::string::npos) {
        out.path = o.out.substr(0, colon);
        out.name = o.out.substr(colon + 1);
    }
    out.device = isBlockDevice(out.path);
    std::vector<BlockRef> sources;
    for (const auto& s : o.sources) sources.push_back(parseBlockRef(s));

    uint32_t flags = CIM_CREATE_IMAGE_CONSISTENT_CIM |
                     (out.device ? CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM : CIM_CREATE_IMAGE_SINGLE_FILE_CIM);
    if (o.verified) flags |= CIM_CREATE_IMAGE_VERIFIED_CIM;
    ImageHandle image;
    check(CimCreateImage2(out.path.c_str(), flags, nullptr, out.name.c_str(), image.out()), "CimCreateImage2");
    for (const auto& s : sources) {
        uint32_t mflags = s.device ? CIM_MERGE_BLOCK_DEVICE : CIM_MERGE_SINGLE_FILE;
        if (o.verified) mflags |= CIM_MERGE_VERIFIED_CIM;
        std::string fsPath = s.path + "/" + s.name;
        check(CimAddFsToMergedImage2(image.get(), fsPath.c_str(), mflags), "CimAddFsToMergedImage2");
    }
    check(CimCommitImage(image.get()), "CimCommitImage");
    image.close();

    std::optional<std::string> rootHash;
    if (o.verified) {
        uint64_t hashSize = 0, headerSize = 0;
        uint8_t hash[32];
        check(CimSealImage(out.path.c_str(), &hashSize, &headerSize, hash), "CimSealImage");
        rootHash = toHex(std::span<const uint8_t>(hash, 32));
    }
    if (!o.quiet) {
        std::string readBack = fmt::format("--merged {}:{}", out.path, out.name);
        for (const auto& s : sources) readBack += fmt::format(" --source {}:{}", s.path, s.name);
        std::printf("merged %zu sources into %s:%s\nread it with: %s\n", sources.size(), out.path.c_str(), out.name.c_str(),
                    readBack.c_str());
    }
    if (rootHash) std::printf("root hash: %s\n", rootHash->c_str());
}

}  // namespace

void registerMerge(CLI::App& app) {
    auto o = std::make_shared<MergeOptions>();
    auto* cmd = app.add_subcommand("merge", "Merge block CIMs into a new merged block CIM");
    cmd->add_option("--out", o->out, "Output as BLOCKFILE[:NAME] (default NAME merged.cim)")->required()->type_name("BLOCKFILE[:NAME]");
    cmd->add_flag("--verified", o->verified, "Merge sealed sources verified, then seal the output and print its root hash");
    cmd->add_flag("-q,--quiet", o->quiet, "Print nothing but the root hash (with --verified)");
    cmd->add_option("SOURCES", o->sources, "Sources as BLOCKFILE:NAME, topmost (winning) first")->required()->type_name("BLOCKFILE:NAME");
    cmd->footer("The output file may be new or an unsealed block file (the merged CIM is added to it).\n"
                "Read the result with: --merged BLOCKFILE:NAME --source SRC1 --source SRC2 ... (same order).");
    cmd->callback([o] { run(*o); });
}

}  // namespace cim::cli
