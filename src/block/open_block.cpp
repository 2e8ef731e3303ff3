#include <cstring>

#include "block/block_image.h"
#include "common/error.h"
#include "image/open.h"
#include "io/file.h"

namespace cim::block {

using namespace cim::format;

namespace {
constexpr uint64_t kMaxInMemoryMetadata = uint64_t(1) << 30;

// A region that is a byte range of a container (verified if the container is).
class ContainerRegion final : public image::RegionSource {
public:
    ContainerRegion(std::shared_ptr<Container> c, uint64_t base, uint64_t length, std::string name)
        : c_(std::move(c)), base_(base), length_(length), name_(std::move(name)) {}
    uint64_t size() const override { return length_; }
    void read(uint64_t offset, std::span<std::byte> out) const override {
        if (offset > length_ || out.size() > length_ - offset) {
            fail(hr::corrupt, "{}: read of {} bytes at {} past region end {}", name_, out.size(), offset, length_);
        }
        c_->read(base_ + offset, out);
    }
    std::string describe() const override { return name_; }

private:
    std::shared_ptr<Container> c_;
    uint64_t base_, length_;
    std::string name_;
};

std::vector<std::shared_ptr<image::RegionSource>> ownRegions(const std::shared_ptr<Container>& c, const std::string& name,
                                                            const Descriptor& d) {
    std::vector<std::shared_ptr<image::RegionSource>> out;
    for (size_t i = 0; i < d.regions.size(); ++i) {
        const auto& r = d.regions[i];
        if (r.source != 0) {
            out.push_back(nullptr);  // external: filled in by openMerged
            continue;
        }
        auto src = std::make_shared<ContainerRegion>(c, r.offset, r.length,
                                                     fmt::format("{}:{} region {}", c->path(), name, i));
        if (image::checkRegionHeader(*src) == RegionType::metadata && r.length <= kMaxInMemoryMetadata) {
            out.push_back(image::loadIntoMemory(*src));
        } else {
            out.push_back(std::move(src));
        }
    }
    return out;
}
}  // namespace

std::shared_ptr<image::Image> openBlock(const std::shared_ptr<Container>& c, const std::string& name) {
    Descriptor d = c->descriptor(c->find(name));
    if (!d.sources.empty()) {
        fail(hr::invalidArg, "{}:{}: this is a merged CIM: open it with its sources (CimOpenMergedImage)", c->path(), name);
    }
    return std::make_shared<image::Image>(c->path() + ":" + name, ownRegions(c, name, d), d.fs.filesystemOffset);
}

std::shared_ptr<image::Image> openBlock(const std::string& path, const std::string& name, const Hash* rootHash) {
    return openBlock(Container::open(path, rootHash), name);
}

std::pair<std::string, std::string> splitSourcePath(const std::string& fsPath) {
    std::string p = fsPath;
    while (p.size() > 1 && (p.back() == '/' || p.back() == '\\')) p.pop_back();
    auto slash = p.find_last_of("/\\");
    if (slash == std::string::npos || slash == 0 || slash + 1 == p.size()) {
        fail(hr::invalidArg, "'{}' is not of the form <block path>/<cim name>", fsPath);
    }
    return {p.substr(0, slash), p.substr(slash + 1)};
}

std::shared_ptr<image::Image> openMerged(const std::vector<std::pair<std::string, std::string>>& paths, const Hash* rootHash) {
    if (paths.size() < 3) {
        fail(hr::invalidArg, "a merged CIM needs the merged image and at least 2 sources ({} paths given)", paths.size());
    }
    auto merged = Container::open(paths[0].first, rootHash);
    const std::string mname = paths[0].first + ":" + paths[0].second;
    Descriptor d = merged->descriptor(merged->find(paths[0].second));
    if (d.sources.empty()) fail(hr::invalidArg, "{}: not a merged CIM", mname);
    if (d.sources.size() != paths.size() - 1) {
        fail(hr::invalidArg, "{}: merged from {} sources but {} were given", mname, d.sources.size(), paths.size() - 1);
    }
    auto regions = ownRegions(merged, paths[0].second, d);
    std::vector<std::vector<std::shared_ptr<image::RegionSource>>> sourceRegions;
    for (size_t s = 0; s < d.sources.size(); ++s) {
        const auto& [spath, sname] = paths[s + 1];
        const SourceInfo& info = d.sources[s];
        if (rootHash && !info.verified) fail(hr::invalidArg, "{}: source {} was not verified when merged", mname, s);
        auto c = Container::open(spath, rootHash ? &info.rootHash : nullptr);
        Descriptor sd = c->descriptor(c->find(sname));
        if (sd.identity != info.identity) {
            fail(hr::corrupt, "{}: source {} ({}:{}) is not the CIM that was merged (it changed, or the order is wrong)", mname,
                 s, spath, sname);
        }
        if (!sd.sources.empty()) fail(hr::corrupt, "{}: source {} is itself a merged CIM", mname, s);
        sourceRegions.push_back(ownRegions(c, sname, sd));
    }
    for (size_t i = 0; i < d.regions.size(); ++i) {
        const auto& r = d.regions[i];
        if (r.source == 0) continue;
        auto& srcs = sourceRegions.at(r.source - 1);
        if (r.sourceRegion >= srcs.size() || !srcs[r.sourceRegion] || srcs[r.sourceRegion]->size() != r.length) {
            fail(hr::corrupt, "{}: region {} refers to a missing or changed region {} of source {}", mname, i, r.sourceRegion,
                 r.source - 1);
        }
        regions[i] = srcs[r.sourceRegion];
    }
    return std::make_shared<image::Image>(mname, std::move(regions), d.fs.filesystemOffset);
}

}  // namespace cim::block
