#include "image/standard_target.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "io/file.h"

namespace cim::image {

using namespace cim::format;

namespace {
class StandardTarget final : public ImageTarget {
public:
    StandardTarget(std::string dir, std::string name, bool replace)
        : dir_(std::move(dir)), name_(std::move(name)), replace_(replace) {
        io::reclaimStaleTemps(dir_);  // leftovers of writers killed in this directory
        tempBase_ = io::tempNameFor(io::joinPath(dir_, name_));
    }
    ~StandardTarget() override { abort(); }

    std::unique_ptr<RegionWriter> createRegion(uint16_t index, RegionType type) override {
        std::string path = tempBase_ + ".region" + std::to_string(index);
        auto f = std::make_shared<io::File>(io::File::open(path, O_RDWR | O_CREAT | O_EXCL, 0644));
        temps_.push_back(path);
        return std::make_unique<RegionWriter>(std::move(f), 0, index, type);
    }

    void publish(const PublishInfo& info) override {
        std::string id = info.regionSetId.toString();
        std::vector<std::string> finals;
        for (size_t i = 0; i < info.ownRegions.size(); ++i) {
            RegionWriter& r = *info.ownRegions[i];
            r.flush();
            r.file().truncate(r.length());
            r.file().sync();
            finals.push_back(io::joinPath(dir_, fmt::format("region_{}_{}", id, i)));
            // Object ID file: lets later forks find identical objects (never read at mount time).
            std::string oidTemp = tempBase_ + ".objectid" + std::to_string(i);
            temps_.push_back(oidTemp);
            io::File o = io::File::open(oidTemp, O_RDWR | O_CREAT | O_TRUNC, 0644);
            ObjectIdHeader h{};
            h.common = makeCommonHeader(FileType::objectId, sizeof(ObjectIdHeader));
            h.index = static_cast<uint16_t>(i);
            h.type = static_cast<uint8_t>(r.type());
            h.tableOffset = sizeof(ObjectIdHeader);
            h.count = static_cast<uint32_t>(info.objectIds[i].size());
            o.writeExact(0, std::as_bytes(std::span(&h, 1)));
            o.writeExact(sizeof h, std::as_bytes(std::span(info.objectIds[i])));
            o.sync();
        }
        // Filesystem file: header, then the parent region sets.
        FilesystemHeader fh{};
        fh.common = makeCommonHeader(FileType::filesystem, sizeof(FilesystemHeader));
        std::memcpy(fh.regions.id, info.regionSetId.bytes.data(), 16);
        fh.regions.count = static_cast<uint16_t>(info.ownRegions.size());
        fh.filesystemOffset = info.filesystemOffset;
        fh.parentCount = static_cast<uint16_t>(info.parentSets.size());
        std::string fsTemp = tempBase_ + ".fs";
        temps_.push_back(fsTemp);
        io::File f = io::File::open(fsTemp, O_RDWR | O_CREAT | O_TRUNC, 0644);
        f.writeExact(0, std::as_bytes(std::span(&fh, 1)));
        f.writeExact(sizeof fh, std::as_bytes(std::span(info.parentSets)));
        f.sync();

        // Region and object ID files first: the image is only reachable once its filesystem file
        // exists, so a crash before the last rename leaves at most unreferenced files.
        for (size_t i = 0; i < info.ownRegions.size(); ++i) {
            std::string oid = io::joinPath(dir_, fmt::format("objectid_{}_{}", id, i));
            // A consistent CIM's region set is named after its content: if the files already
            // exist they are identical and may belong to another image, so keep them as they are.
            if (io::exists(finals[i]) && io::exists(oid)) continue;
            io::renameFile(tempBase_ + ".region" + std::to_string(i), finals[i]);
            published_.push_back(finals[i]);
            io::renameFile(tempBase_ + ".objectid" + std::to_string(i), oid);
            published_.push_back(oid);
        }
        std::string finalPath = io::joinPath(dir_, name_);
        if (replace_) {
            io::renameFile(fsTemp, finalPath);
        } else if (::renameat2(AT_FDCWD, fsTemp.c_str(), AT_FDCWD, finalPath.c_str(), RENAME_NOREPLACE) != 0) {
            int e = errno;
            if (e == EEXIST) fail(hr::fileExists, "{}: image already exists", finalPath);
            failErrno(e, "publish " + finalPath);
        }
        io::syncDirectory(dir_);
        published_.clear();  // now owned by the image
        done_ = true;
    }

    void abort() noexcept override {
        for (const auto& t : temps_) ::unlink(t.c_str());
        temps_.clear();
        if (!done_) {
            for (const auto& p : published_) ::unlink(p.c_str());
        }
        published_.clear();
    }

    std::string displayName() const override { return io::joinPath(dir_, name_); }

private:
    std::string dir_, name_, tempBase_;
    bool replace_;
    bool done_ = false;
    std::vector<std::string> temps_, published_;
};
}  // namespace

std::unique_ptr<ImageTarget> makeStandardTarget(const std::string& dir, const std::string& name, bool replaceExisting) {
    return std::make_unique<StandardTarget>(dir, name, replaceExisting);
}

}  // namespace cim::image
