// ImageTarget for block CIMs. The data region is written straight into the container after the
// committed content; metadata and small data go to anonymous temporary files and are appended
// at commit, followed by the CIM's descriptor, the new directory and finally block 0 (the
// publish point). A new single-file container is built aside and renamed into place.
#include <fcntl.h>
#include "common/sha256.h"
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "block/block_image.h"
#include "common/error.h"
#include "image/create.h"
#include "io/file.h"
#include "opencim/cimfs.h"

namespace cim::block {

using namespace cim::format;
using image::RegionWriter;

namespace {

class BlockTarget final : public image::ImageTarget {
public:
    BlockTarget(std::string path, std::string name, uint32_t flags) : path_(std::move(path)), name_(std::move(name)) {
        const char* op = "CimCreateImage2";
        device_ = flags & CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM;
        struct stat st;
        bool exists = ::stat(path_.c_str(), &st) == 0;
        if (device_ && !exists) fail(hr::fileNotFound, "{}: {}: block device does not exist", op, path_);
        if (device_ && !S_ISBLK(st.st_mode)) fail(hr::invalidArg, "{}: {}: not a block device", op, path_);
        if (!device_ && exists && !S_ISREG(st.st_mode)) fail(hr::invalidArg, "{}: {}: not a regular file", op, path_);
        if (!device_ && !io::isDirectory(io::dirName(path_))) {
            fail(hr::pathNotFound, "{}: {}: directory does not exist", op, io::dirName(path_));
        }
        uint32_t cflags = (flags & CIM_CREATE_IMAGE_VERIFIED_CIM ? kContainerVerified : 0) |
                          (flags & CIM_CREATE_IMAGE_CONSISTENT_CIM ? kContainerConsistent : 0) | (device_ ? kContainerDevice : 0);
        if (exists) {
            file_ = std::make_shared<io::File>(io::File::open(path_, O_RDWR));
            // One writer per container: two would both append at the same end, and the later
            // commit would silently drop the earlier CIM. Held until the handle is closed.
            if (::flock(file_->fd(), LOCK_EX | LOCK_NB) != 0) {
                if (errno == EWOULDBLOCK) fail(hr::sharingViolation, "{}: {}: another writer has the block CIM open", op, path_);
                failErrno(errno, "lock " + path_);
            }
            std::vector<std::byte> b0(kBlockSize);
            uint64_t size = file_->size();
            bool fresh = size < kBlockSize;
            if (!fresh) {
                file_->readExact(0, b0);
                fresh = device_ && std::memcmp(b0.data(), kContainerMagic, 8) != 0;  // an empty device
            }
            if (fresh && !device_ && size > 0) fail(hr::corrupt, "{}: {}: existing file is not a block CIM", op, path_);
            if (!fresh) {
                header_ = Container::parseHeader(b0, path_, size);
                if (Container::readSeal(*file_, header_)) fail(hr::accessDenied, "{}: {}: the block CIM is sealed", op, path_);
                // Verified and device-ness are properties of the container; "consistent" is only
                // how each CIM is built, so it may differ between CIMs of one container.
                constexpr uint32_t kFixed = kContainerVerified | kContainerDevice;
                if ((header_.flags & kFixed) != (cflags & kFixed)) {
                    fail(hr::invalidArg, "{}: {}: flags {:#x} do not match the container's ({:#x})", op, path_, cflags, header_.flags);
                }
                if (header_.cimCount) {
                    std::vector<std::byte> dir(header_.directoryLength);
                    file_->readExact(header_.directoryOffset, dir);
                    cims_ = parseDirectory(dir, header_.cimCount, path_);
                }
                for (const auto& c : cims_) {
                    if (c.name == name_) fail(hr::fileExists, "{}: {}: a CIM named '{}' already exists", op, path_, name_);
                }
                oldSize_ = size;
            } else {
                initHeader(cflags);
            }
        } else {
            io::reclaimStaleTemps(io::dirName(path_));  // leftovers of writers killed in this directory
            tempPath_ = io::tempNameFor(path_);
            file_ = std::make_shared<io::File>(io::File::open(tempPath_, O_RDWR | O_CREAT | O_EXCL, 0644));
            try {
                initHeader(cflags);  // writes block 0: fails on a full disk
            } catch (...) {
                ::unlink(tempPath_.c_str());  // the destructor does not run for a throwing constructor
                throw;
            }
        }
        end_ = header_.dataEnd;
    }

    ~BlockTarget() override { abort(); }

    std::unique_ptr<RegionWriter> createRegion(uint16_t index, RegionType type) override {
        if (type == RegionType::data) {
            dataIndex_ = index;
            return std::make_unique<RegionWriter>(file_, end_, index, type);  // in place, at the end
        }
        // Anonymous temp file next to the container (same filesystem: cheap copy at commit).
        std::string dir = device_ ? "/tmp" : io::dirName(path_);
        int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) fd = ::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) failErrno(errno, "temporary region file in " + dir);
        return std::make_unique<RegionWriter>(std::make_shared<io::File>(fd, "(temporary region)"), 0, index, type);
    }

    void publish(const image::PublishInfo& info) override {
        for (RegionWriter* r : info.ownRegions) r->flush();
        // Own regions: the data region is already in place; append the others after it.
        std::vector<RegionExtent> extents(info.ownRegions.size());
        uint64_t pos = end_;
        for (size_t i = 0; i < info.ownRegions.size(); ++i) {
            RegionWriter& r = *info.ownRegions[i];
            if (r.type() == RegionType::data) {
                extents[i] = {end_, r.length(), 0, 0};
                pos = std::max(pos, alignUp(end_ + r.length(), kBlockSize));
                padTo(end_ + r.length(), pos);
            }
        }
        for (size_t i = 0; i < info.ownRegions.size(); ++i) {
            RegionWriter& r = *info.ownRegions[i];
            if (r.type() == RegionType::data) continue;
            copyRegion(r, pos);
            extents[i] = {pos, r.length(), 0, 0};
            padTo(pos + r.length(), alignUp(pos + r.length(), kBlockSize));
            pos = alignUp(pos + r.length(), kBlockSize);
        }
        for (const auto& x : info.externalRegions) extents.push_back({0, x.length, x.source + 1, x.region});

        // Descriptor.
        std::vector<std::byte> d;
        FilesystemHeader fh{};
        fh.common = makeCommonHeader(FileType::filesystem, sizeof(FilesystemHeader));
        std::memcpy(fh.regions.id, info.regionSetId.bytes.data(), 16);
        fh.regions.count = static_cast<uint16_t>(info.ownRegions.size());
        fh.filesystemOffset = info.filesystemOffset;
        append(d, &fh, sizeof fh);
        DescriptorTail tail{static_cast<uint32_t>(extents.size()), static_cast<uint32_t>(info.mergeSources.size())};
        append(d, &tail, sizeof tail);
        append(d, extents.data(), extents.size() * sizeof(RegionExtent));
        for (const auto& s : info.mergeSources) {
            SourceRecord r{};
            std::memcpy(r.identity, s.identity.data(), 32);
            std::memcpy(r.rootHash, s.rootHash.data(), 32);
            r.flags = s.verified ? 1 : 0;
            r.nameLength = static_cast<uint16_t>(std::min<size_t>(s.name.size(), 0xFFFF));
            append(d, &r, sizeof r);
            append(d, s.name.data(), r.nameLength);
            d.resize(alignUp(d.size(), 8));
        }
        uint64_t descAt = pos;
        file_->writeExact(descAt, d);
        padTo(pos + d.size(), alignUp(pos + d.size(), kBlockSize));
        pos = alignUp(pos + d.size(), kBlockSize);

        // Directory: the old entries plus this CIM.
        auto entries = cims_;
        entries.push_back({name_, descAt, static_cast<uint32_t>(d.size())});
        auto dir = buildDirectory(entries);
        uint64_t dirAt = pos;
        file_->writeExact(dirAt, dir);
        padTo(pos + dir.size(), alignUp(pos + dir.size(), kBlockSize));
        pos = alignUp(pos + dir.size(), kBlockSize);
        // Whole blocks only, so the hash tree covers every byte; cut anything a rewound object left.
        if (!device_) file_->truncate(pos);

        header_.directoryOffset = dirAt;
        header_.directoryLength = static_cast<uint32_t>(dir.size());
        header_.cimCount = static_cast<uint32_t>(entries.size());
        header_.dataEnd = pos;
        header_.generation += 1;
        auto dd = Sha256::of(dir);
        std::memcpy(header_.directoryDigest, dd.data(), 32);
        file_->sync();
        writeHeader();  // the publish point for existing containers and devices
        file_->sync();
        if (!tempPath_.empty()) {
            if (::renameat2(AT_FDCWD, tempPath_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE) != 0) {
                int e = errno;
                if (e == EEXIST) fail(hr::fileExists, "{}: block file appeared while the CIM was written", path_);
                failErrno(e, "publish " + path_);
            }
            tempPath_.clear();
            io::syncDirectory(io::dirName(path_));
        }
        done_ = true;
    }

    void abort() noexcept override {
        if (done_) return;
        if (!tempPath_.empty()) {
            ::unlink(tempPath_.c_str());
            tempPath_.clear();
        } else if (file_ && !device_ && oldSize_) {
            ::ftruncate(file_->fd(), static_cast<off_t>(oldSize_));  // drop what this writer appended
        }
        done_ = true;
    }

    std::string displayName() const override { return path_ + ":" + name_; }

private:
    static void append(std::vector<std::byte>& v, const void* p, size_t n) {
        auto b = static_cast<const std::byte*>(p);
        v.insert(v.end(), b, b + n);
    }

    void initHeader(uint32_t cflags) {
        std::memcpy(header_.magic, kContainerMagic, 8);
        header_.versionMajor = kContainerVersionMajor;
        header_.versionMinor = kContainerVersionMinor;
        header_.blockSize = kBlockSize;
        header_.flags = cflags;
        header_.dataEnd = kBlockSize;
        if (!device_) writeHeader();  // placeholder until commit (the file is not visible yet)
    }

    void writeHeader() {
        std::vector<std::byte> b(kBlockSize);
        std::memcpy(b.data(), &header_, sizeof header_);
        auto hd = Sha256::of(b.data(), kHeaderDigestOffset);
        std::memcpy(b.data() + kHeaderDigestOffset, hd.data(), 32);
        file_->writeExact(0, b);
    }

    void copyRegion(RegionWriter& r, uint64_t at) {
        std::vector<std::byte> buf(1 << 20);
        for (uint64_t off = 0; off < r.length();) {
            size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), r.length() - off));
            r.file().readExact(off, std::span(buf).first(n));
            file_->writeExact(at + off, std::span(buf).first(n));
            off += n;
        }
    }

    // Zero-fills [from, to): on a device these bytes may hold old data, and padding must be zero
    // for a reproducible image to hash the same on a file and on a device.
    void padTo(uint64_t from, uint64_t to) {
        if (to <= from) return;
        std::vector<std::byte> zeros(to - from);
        file_->writeExact(from, zeros);
    }

    std::string path_, name_, tempPath_;
    bool device_ = false;
    bool done_ = false;
    std::shared_ptr<io::File> file_;
    ContainerHeader header_{};
    std::vector<CimEntry> cims_;
    uint64_t end_ = 0;
    uint64_t oldSize_ = 0;
    uint16_t dataIndex_ = 0;
};

}  // namespace

std::unique_ptr<image::Writer> createBlockImage(const std::string& path, const char* existing, const char* newName,
                                                uint32_t flags, const UpcaseTable* upcase) {
    const char* op = "CimCreateImage2";
    if (path.empty()) fail(hr::invalidArg, "{}: the block CIM path is empty", op);
    if (existing) fail(hr::invalidArg, "{}: {}: forking is supported for standard CIMs only", op, path);
    if (!newName) fail(hr::invalidArg, "{}: {}: a block CIM needs a name", op, path);
    image::checkImageName(op, path, newName);
    auto target = std::make_unique<BlockTarget>(path, newName, flags);
    return std::make_unique<image::Writer>(std::move(target), upcase ? *upcase : defaultUpcaseTable(), (flags & CIM_CREATE_IMAGE_CONSISTENT_CIM) != 0);
}

}  // namespace cim::block
