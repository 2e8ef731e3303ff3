// opencim info: the on-disk structure of an image. The C ABI exposes file contents only, so this
// command reads headers through the library's internal readers: image::readStandardHeader for a
// standard CIM and block::Container for a block file. Content counts come from a walk through the
// ABI reader.
#include <fcntl.h>
#include <fmt/ranges.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "block/block_image.h"
#include "block/container.h"
#include "cli/commands.h"
#include "cli/display.h"
#include "cli/errors.h"
#include "cli/image_spec.h"
#include "format/guid.h"
#include "image/open.h"
#include "io/file.h"

namespace cim::cli {

namespace {

struct InfoOptions {
    ImageSpec image;
    bool json = false;
    std::vector<std::string> args;
};

struct Contents {
    uint64_t directories = 0, files = 0, symlinks = 0, other = 0, bytes = 0;
    Json json() const {
        return {{"directories", directories}, {"files", files}, {"symlinks", symlinks}, {"other", other}, {"bytes", bytes}};
    }
    std::string text() const {
        return fmt::format("{} directories, {} files, {} symlinks, {} other; {} bytes in files", directories, files, symlinks,
                           other, bytes);
    }
};

// Counts names below the root; bytes count each file (not each hard link) once.
Contents countContents(const Reader& r) {
    Contents c;
    std::set<uint64_t> seen;
    r.walk("", [&](const std::string&, const Reader::Entry& e) {
        std::string t = fileType(e.info);
        if (t == "directory") ++c.directories;
        else if (t == "file") ++c.files;
        else if (t == "symlink") ++c.symlinks;
        else ++c.other;
        if (t == "file" && seen.insert(e.info.FileId).second) c.bytes += static_cast<uint64_t>(e.info.FileSize);
    });
    return c;
}

std::string guidText(const uint8_t (&id)[16]) {
    format::Guid g;
    std::memcpy(g.bytes.data(), id, 16);
    return g.toString();
}

uint64_t fileSize(const std::string& path, bool* exists = nullptr) {
    struct stat st;
    bool ok = ::stat(path.c_str(), &st) == 0;
    if (exists) *exists = ok;
    return ok ? static_cast<uint64_t>(st.st_size) : 0;
}

const char* regionTypeName(uint8_t t) {
    switch (t) {
        case 0: return "metadata";
        case 1: return "data";
        case 2: return "small-data";
        default: return "unknown";
    }
}

uint8_t regionType(const std::string& path) {
    io::File f = io::File::open(path, O_RDONLY);
    std::vector<std::byte> b(sizeof(format::RegionHeader));
    f.readExact(0, b);
    return format::load<format::RegionHeader>(b.data()).type;
}

// ---- standard CIM ----

void standardInfo(const ImageSpec& spec, bool asJson) {
    image::StandardHeader sh = image::readStandardHeader(spec.dir, spec.file);
    auto img = image::openStandard(spec.dir, spec.file);
    Reader reader = openReader(spec);
    Contents contents = countContents(reader);
    const auto& h = sh.header;

    Json j;
    j["kind"] = "standard";
    j["path"] = spec.describe();
    j["version"] = fmt::format("{}.{}", h.common.version.major, h.common.version.minor);
    j["regionSet"] = {{"id", guidText(h.regions.id)}, {"count", h.regions.count}};
    Json parents = Json::array();
    for (size_t i = 0; i + 1 < sh.regionSets.size(); ++i) {
        parents.push_back({{"id", guidText(sh.regionSets[i].id)}, {"count", sh.regionSets[i].count}});
    }
    j["parentRegionSets"] = parents;
    j["filesystemOffset"] = h.filesystemOffset;
    j["fileTables"] = img->filesystem().fileTableDirectoryLength;
    j["fileRecords"] = img->fileCount();
    Json regions = Json::array();
    uint64_t total = fileSize(io::joinPath(spec.dir, spec.file));
    for (const auto& set : sh.regionSets) {
        format::Guid id;
        std::memcpy(id.bytes.data(), set.id, 16);
        bool own = &set == &sh.regionSets.back();
        for (uint32_t i = 0; i < set.count; ++i) {
            std::string rp = image::regionFilePath(spec.dir, "region", id, i);
            std::string op = image::regionFilePath(spec.dir, "objectid", id, i);
            bool objExists = false;
            uint64_t rsize = fileSize(rp), osize = fileSize(op, &objExists);
            total += rsize + osize;
            Json r{{"file", io::baseName(rp)}, {"size", rsize}, {"type", regionTypeName(regionType(rp))},
                   {"regionSet", id.toString()}, {"index", i}, {"parent", !own}};
            r["objectIdFile"] = objExists ? Json(io::baseName(op)) : Json(nullptr);
            r["objectIdSize"] = osize;
            regions.push_back(std::move(r));
        }
    }
    j["regionFiles"] = regions;
    j["totalBytes"] = total;
    j["contents"] = contents.json();
    if (asJson) {
        std::cout << dumpJson(j) << '\n';
        return;
    }
    std::printf("Standard CIM %s\n", spec.describe().c_str());
    std::printf("  version:            %s\n", j["version"].get<std::string>().c_str());
    std::printf("  region set:         %s (%u region files)\n", guidText(h.regions.id).c_str(), h.regions.count);
    std::printf("  parent region sets: %zu\n", parents.size());
    for (const auto& p : parents) {
        std::printf("    %s (%u region files)\n", p["id"].get<std::string>().c_str(), p["count"].get<unsigned>());
    }
    std::printf("  file tables:        %u (%u file records)\n", img->filesystem().fileTableDirectoryLength, img->fileCount());
    std::printf("  region files:\n");
    for (const auto& r : regions) {
        std::printf("    %-52s %12llu  %s%s\n", r["file"].get<std::string>().c_str(),
                    static_cast<unsigned long long>(r["size"].get<uint64_t>()), r["type"].get<std::string>().c_str(),
                    r["parent"].get<bool>() ? " (parent)" : "");
    }
    std::printf("  total size:         %llu bytes (with object ID files)\n", static_cast<unsigned long long>(total));
    std::printf("  contents:           %s\n", contents.text().c_str());
}

// ---- block file ----

std::vector<std::string> containerFlagNames(uint32_t f) {
    std::vector<std::string> v;
    if (f & block::kContainerVerified) v.push_back("verified");
    if (f & block::kContainerConsistent) v.push_back("consistent");
    if (f & block::kContainerDevice) v.push_back("device");
    if (f & ~(block::kContainerVerified | block::kContainerConsistent | block::kContainerDevice)) {
        v.push_back(fmt::format("{:#x}", f & ~(block::kContainerVerified | block::kContainerConsistent | block::kContainerDevice)));
    }
    return v;
}

// `only`: show just this CIM. `merged`: the spec of a --merged open (its walk needs the sources).
void blockInfo(const ImageSpec& spec, const std::string& path, const std::string* only, bool asJson) {
    std::optional<block::Hash> hash;
    if (spec.rootHash) {
        hash.emplace();
        std::memcpy(hash->data(), spec.rootHash->data(), 32);
    }
    auto c = block::Container::open(path, hash ? &*hash : nullptr);
    const auto& h = c->header();
    Json j;
    j["kind"] = "block";
    j["path"] = path;
    j["version"] = fmt::format("{}.{}", h.versionMajor, h.versionMinor);
    j["blockSize"] = h.blockSize;
    j["flags"] = h.flags;
    j["flagNames"] = containerFlagNames(h.flags);
    j["directoryOffset"] = h.directoryOffset;
    j["dataEnd"] = h.dataEnd;
    j["generation"] = h.generation;
    j["fileSize"] = fileSize(path);
    j["verifiedOpen"] = c->verified();
    const auto& seal = c->seal();
    j["sealed"] = seal.has_value();
    if (seal) {
        j["rootHash"] = toHex(std::span<const uint8_t>(seal->rootHash, 32));
        j["seal"] = {{"hashOffset", seal->hashOffset}, {"dataBlocks", seal->dataBlocks}, {"hashAreaSize", seal->hashAreaSize}};
    } else {
        j["rootHash"] = nullptr;
    }
    Json cims = Json::array();
    bool found = false;
    for (const auto& e : c->cims()) {
        if (only && e.name != *only) continue;
        found = true;
        block::Descriptor d = c->descriptor(e);
        Json cj;
        cj["name"] = e.name;
        cj["version"] = fmt::format("{}.{}", d.fs.common.version.major, d.fs.common.version.minor);
        cj["identity"] = toHex(std::span<const uint8_t>(d.identity.data(), 32));
        cj["descriptorOffset"] = e.descriptorOffset;
        cj["descriptorLength"] = e.descriptorLength;
        Json regions = Json::array();
        for (size_t i = 0; i < d.regions.size(); ++i) {
            const auto& r = d.regions[i];
            Json rj{{"index", i}, {"source", r.source}};
            if (r.source == 0) {
                rj["offset"] = r.offset;
                rj["length"] = r.length;
            } else {
                rj["sourceRegion"] = r.sourceRegion;
            }
            regions.push_back(std::move(rj));
        }
        cj["regions"] = regions;
        cj["merged"] = !d.sources.empty();
        Json sources = Json::array();
        for (const auto& s : d.sources) {
            sources.push_back({{"name", s.name},
                               {"identity", toHex(std::span<const uint8_t>(s.identity.data(), 32))},
                               {"verified", s.verified},
                               {"rootHash", s.verified ? Json(toHex(std::span<const uint8_t>(s.rootHash.data(), 32))) : Json(nullptr)}});
        }
        cj["sources"] = sources;
        // Contents: a plain CIM is opened directly; a merged one only when its sources were given.
        std::optional<Contents> contents;
        if (d.sources.empty()) {
            auto img = block::openBlock(c, e.name);
            cj["fileTables"] = img->filesystem().fileTableDirectoryLength;
            cj["fileRecords"] = img->fileCount();
            ImageSpec one = spec;
            one.kind = ImageSpec::Kind::block;
            one.block = {path, e.name, isBlockDevice(path)};
            contents = countContents(openReader(one));
        } else if (spec.kind == ImageSpec::Kind::merged && spec.block.name == e.name) {
            contents = countContents(openReader(spec));
        }
        cj["contents"] = contents ? contents->json() : Json(nullptr);
        cims.push_back(std::move(cj));
    }
    if (only && !found) fail(hr::fileNotFound, "{}: no CIM named '{}' in this block file", path, *only);
    j["cims"] = cims;
    if (asJson) {
        std::cout << dumpJson(j) << '\n';
        return;
    }
    std::printf("Block file %s\n", path.c_str());
    std::printf("  container version: %s, block size %u, flags 0x%x (%s)\n", j["version"].get<std::string>().c_str(), h.blockSize,
                h.flags, fmt::format("{}", fmt::join(containerFlagNames(h.flags), ", ")).c_str());
    std::printf("  data end:          %llu (file size %llu), generation %llu\n", static_cast<unsigned long long>(h.dataEnd),
                static_cast<unsigned long long>(j["fileSize"].get<uint64_t>()), static_cast<unsigned long long>(h.generation));
    if (seal) {
        std::printf("  sealed:            yes, root hash %s\n", j["rootHash"].get<std::string>().c_str());
        std::printf("                     hash tree at %llu, %llu data blocks, %llu bytes of hashes%s\n",
                    static_cast<unsigned long long>(seal->hashOffset), static_cast<unsigned long long>(seal->dataBlocks),
                    static_cast<unsigned long long>(seal->hashAreaSize), c->verified() ? " (verified)" : "");
    } else {
        std::printf("  sealed:            no\n");
    }
    std::printf("  CIMs:              %u%s\n", h.cimCount, only ? fmt::format(" (showing '{}')", *only).c_str() : "");
    for (const auto& cj : cims) {
        std::printf("  - %s (CIM version %s%s)\n", cj["name"].get<std::string>().c_str(), cj["version"].get<std::string>().c_str(),
                    cj["merged"].get<bool>() ? ", merged" : "");
        std::printf("      identity %s\n", cj["identity"].get<std::string>().c_str());
        if (cj.contains("fileTables")) {
            std::printf("      file tables %u (%u file records)\n", cj["fileTables"].get<unsigned>(), cj["fileRecords"].get<unsigned>());
        }
        for (const auto& r : cj["regions"]) {
            if (r["source"].get<uint32_t>() == 0) {
                std::printf("      region %zu: offset %llu, length %llu\n", r["index"].get<size_t>(),
                            static_cast<unsigned long long>(r["offset"].get<uint64_t>()),
                            static_cast<unsigned long long>(r["length"].get<uint64_t>()));
            } else {
                std::printf("      region %zu: region %u of source %u\n", r["index"].get<size_t>(), r["sourceRegion"].get<uint32_t>(),
                            r["source"].get<uint32_t>());
            }
        }
        unsigned k = 1;
        for (const auto& s : cj["sources"]) {
            std::printf("      source %u: %s%s\n", k++, s["name"].get<std::string>().c_str(),
                        s["verified"].get<bool>() ? (" (verified, root hash " + s["rootHash"].get<std::string>() + ")").c_str() : "");
        }
        if (cj["contents"].is_null()) {
            std::printf("      contents: (merged CIM: give --merged with its --source list to count)\n");
        } else {
            const auto& ct = cj["contents"];
            std::printf("      contents: %llu directories, %llu files, %llu symlinks, %llu other; %llu bytes in files\n",
                        static_cast<unsigned long long>(ct["directories"].get<uint64_t>()),
                        static_cast<unsigned long long>(ct["files"].get<uint64_t>()),
                        static_cast<unsigned long long>(ct["symlinks"].get<uint64_t>()),
                        static_cast<unsigned long long>(ct["other"].get<uint64_t>()),
                        static_cast<unsigned long long>(ct["bytes"].get<uint64_t>()));
        }
    }
}

void run(InfoOptions& o) {
    // A bare block file shows the whole container; everything else goes through the image spec.
    bool optionsGiven = !o.image.blockOpt.empty() || !o.image.nameOpt.empty() || !o.image.mergedOpt.empty() ||
                        !o.image.sourceOpts.empty();
    if (!optionsGiven && o.args.size() == 1 && io::exists(o.args[0]) && !io::isDirectory(o.args[0]) &&
        detectImageFile(o.args[0]) == ImageFileKind::block) {
        if (!o.image.verifyOpt.empty()) o.image.rootHash = parseHex(o.image.verifyOpt, 32, "--verify");
        o.image.kind = ImageSpec::Kind::block;
        blockInfo(o.image, o.args[0], nullptr, o.json);
        return;
    }
    auto rest = resolveImage(o.image, o.args);
    if (!rest.empty()) throw UsageError("expected a single IMAGE");
    if (o.image.kind == ImageSpec::Kind::standard) {
        standardInfo(o.image, o.json);
    } else {
        blockInfo(o.image, o.image.block.path, &o.image.block.name, o.json);
    }
}

}  // namespace

void registerInfo(CLI::App& app) {
    auto o = std::make_shared<InfoOptions>();
    auto* cmd = app.add_subcommand("info", "Show the on-disk structure of an image or block file");
    cmd->add_flag("--json", o->json, "Print a JSON object");
    addImageOptions(*cmd, o->image);
    cmd->add_option("ARGS", o->args, "IMAGE (a bare BLOCKFILE shows every CIM in it)")->type_name("");
    cmd->callback([o] { run(*o); });
}

}  // namespace cim::cli
