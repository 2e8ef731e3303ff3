// opencim verify: checks a sealed block CIM (or a merged CIM and its sources) against a root hash.
// Two passes: every block of each container's committed area is read through a verified
// block::Container (the ABI has no whole-container check), then every file, stream and metadata
// buffer is read through CimOpenVerifiedImage / CimOpenMergedVerifiedImage.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "block/container.h"
#include "cli/commands.h"
#include "cli/display.h"
#include "cli/errors.h"
#include "cli/image_spec.h"
#include "io/file.h"

namespace cim::cli {

namespace {

struct VerifyOptions {
    ImageSpec image;
    std::vector<std::string> args;
};

struct Totals {
    uint64_t blocks = 0, entries = 0, streams = 0, bytes = 0;
};

// Reads [0, dataEnd) of a container opened with `root`; every block is checked by the hash tree.
std::shared_ptr<block::Container> scanContainer(const std::string& path, const block::Hash& root, Totals& t) {
    auto c = block::Container::open(path, &root);
    uint64_t end = c->header().dataEnd;
    std::vector<std::byte> buf(1u << 20);
    for (uint64_t off = 0; off < end;) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - off));
        c->read(off, std::span<std::byte>(buf.data(), n));
        off += n;
    }
    t.blocks += end / c->header().blockSize;
    return c;
}

// Reads every file's data, streams and metadata buffers through the verified reader.
void readEverything(const Reader& r, Totals& t) {
    auto sink = [&](std::span<const std::byte> d) { t.bytes += d.size(); };
    auto one = [&](const std::string& path, const CIMFS_FILE_INFO& info) {
        ++t.entries;
        r.securityDescriptor(path);
        r.extendedAttributes(path);
        r.reparseData(path);
        if (!(info.Attributes & 0x10)) r.readAll(path, sink);
        for (const auto& s : r.alternateStreams(path)) {
            ++t.streams;
            r.readAll(path + ":" + s.name, sink);
        }
    };
    one("", r.stat(""));
    r.walk("", [&](const std::string& p, const Reader::Entry& e) { one(p, e.info); });
}

block::Hash toHash(const std::vector<uint8_t>& v) {
    block::Hash h;
    std::memcpy(h.data(), v.data(), 32);
    return h;
}

void run(VerifyOptions& o) {
    ImageSpec& spec = o.image;
    std::vector<std::string> args = o.args;
    if (spec.verifyOpt.empty()) {  // HASH is the last argument unless given as --verify
        if (args.empty()) throw UsageError("expected [IMAGE] HASH");
        spec.verifyOpt = args.back();
        args.pop_back();
    }

    // A bare block file with several CIMs: verify the container and each CIM that is not merged.
    bool optionsGiven = !spec.blockOpt.empty() || !spec.mergedOpt.empty() || !spec.sourceOpts.empty();
    if (!optionsGiven && args.size() == 1 && io::exists(args[0]) && !io::isDirectory(args[0]) &&
        detectImageFile(args[0]) == ImageFileKind::block) {
        block::Hash root = toHash(parseHex(spec.verifyOpt, 32, "HASH"));
        Totals t;
        auto c = scanContainer(args[0], root, t);
        unsigned cims = 0, skipped = 0;
        for (const auto& e : c->cims()) {
            if (!c->descriptor(e).sources.empty()) {
                std::printf("skipped %s:%s (merged: verify it with --merged and its --source list)\n", args[0].c_str(), e.name.c_str());
                ++skipped;
                continue;
            }
            ImageSpec one;
            one.kind = ImageSpec::Kind::block;
            one.block = {args[0], e.name, isBlockDevice(args[0])};
            one.rootHash = std::vector<uint8_t>(root.begin(), root.end());
            readEverything(openReader(one), t);
            ++cims;
        }
        std::printf("OK: %s: %llu blocks verified; %u CIMs, %llu entries, %llu streams, %llu bytes read\n", args[0].c_str(),
                    static_cast<unsigned long long>(t.blocks), cims, static_cast<unsigned long long>(t.entries),
                    static_cast<unsigned long long>(t.streams), static_cast<unsigned long long>(t.bytes));
        return;
    }

    auto rest = resolveImage(spec, args);
    if (!rest.empty()) throw UsageError("expected [IMAGE] HASH");
    block::Hash root = toHash(*spec.rootHash);
    Totals t;
    auto c = scanContainer(spec.block.path, root, t);
    if (spec.kind == ImageSpec::Kind::merged) {
        // Each source's container is checked against the root hash the merge recorded for it.
        auto d = c->descriptor(c->find(spec.block.name));
        if (d.sources.size() != spec.sources.size()) {
            fail(hr::invalidArg, "{}: merged from {} sources but {} were given", spec.describe(), d.sources.size(),
                 spec.sources.size());
        }
        for (size_t i = 0; i < d.sources.size(); ++i) {
            if (!d.sources[i].verified) fail(hr::invalidArg, "{}: source {} was not verified when merged", spec.describe(), i + 1);
            scanContainer(spec.sources[i].path, d.sources[i].rootHash, t);
        }
    }
    readEverything(openReader(spec), t);
    std::printf("OK: %s: %llu blocks verified; %llu entries, %llu streams, %llu bytes read\n", spec.describe().c_str(),
                static_cast<unsigned long long>(t.blocks), static_cast<unsigned long long>(t.entries),
                static_cast<unsigned long long>(t.streams), static_cast<unsigned long long>(t.bytes));
}

}  // namespace

void registerVerify(CLI::App& app) {
    auto o = std::make_shared<VerifyOptions>();
    auto* cmd = app.add_subcommand("verify", "Check a sealed block CIM against its root hash, reading every byte");
    addImageOptions(*cmd, o->image);
    cmd->add_option("ARGS", o->args, "[IMAGE] HASH: IMAGE is BLOCKFILE (all its CIMs) or BLOCKFILE:NAME; HASH 64 hex digits")->type_name("");
    cmd->footer(std::string(kImageHelp) + "\nPrints OK and exits 0 when everything matches; any mismatch exits 1.");
    cmd->callback([o] { run(*o); });
}

}  // namespace cim::cli
