#include <dirent.h>
#include <fcntl.h>
#include <strings.h>

#include <cstring>

#include "common/error.h"
#include "image/open.h"
#include "io/file.h"

namespace cim::image {

using namespace cim::format;

namespace {
constexpr uint64_t kMaxInMemoryMetadata = uint64_t(1) << 30;

void checkCommon(const CommonHeader& c, FileType type, const std::string& what) {
    if (std::memcmp(c.magic, kMagic, sizeof kMagic) != 0) fail(hr::corrupt, "{}: not a CIM file (bad magic)", what);
    if (c.type != static_cast<uint8_t>(type)) fail(hr::corrupt, "{}: file type {} where {} was expected", what, c.type, int(type));
    if (c.version.major < kVersionMajor || c.version.major > kMaxVersionMajor) {
        fail(hr::corrupt, "{}: unsupported CIM version {}.{}", what, c.version.major, c.version.minor);
    }
}
}  // namespace

StandardHeader readStandardHeader(const std::string& dir, const std::string& name) {
    std::string path = io::joinPath(dir, name);
    io::File f = io::File::open(path, O_RDONLY);
    StandardHeader out;
    std::vector<std::byte> buf(sizeof(FilesystemHeader));
    f.readExact(0, buf);
    out.header = load<FilesystemHeader>(buf.data());
    checkCommon(out.header.common, FileType::filesystem, path);
    std::vector<std::byte> parents(size_t(out.header.parentCount) * sizeof(RegionSet));
    f.readExact(sizeof(FilesystemHeader), parents);
    for (uint16_t i = 0; i < out.header.parentCount; ++i) out.regionSets.push_back(load<RegionSet>(parents.data() + i * sizeof(RegionSet)));
    out.regionSets.push_back(out.header.regions);
    return out;
}

std::string regionFilePath(const std::string& dir, const char* prefix, const Guid& id, uint32_t i) {
    std::string want = std::string(prefix) + "_" + id.toString() + "_" + std::to_string(i);
    std::string exact = io::joinPath(dir, want);
    if (io::exists(exact)) return exact;
    if (DIR* d = ::opendir(dir.c_str())) {
        std::string found;
        while (dirent* e = ::readdir(d)) {
            if (::strcasecmp(e->d_name, want.c_str()) == 0) {
                found = io::joinPath(dir, e->d_name);
                break;
            }
        }
        ::closedir(d);
        if (!found.empty()) return found;
    }
    return exact;
}

RegionType checkRegionHeader(const RegionSource& src) {
    if (src.size() < sizeof(RegionHeader)) fail(hr::corrupt, "{}: region of {} bytes has no header", src.describe(), src.size());
    std::vector<std::byte> b(sizeof(RegionHeader));
    src.read(0, b);
    auto h = load<RegionHeader>(b.data());
    checkCommon(h.common, FileType::region, src.describe());
    if (h.type > 2) fail(hr::corrupt, "{}: region type {}", src.describe(), h.type);
    return static_cast<RegionType>(h.type);
}

std::shared_ptr<Image> openStandard(const std::string& dir, const std::string& name) {
    if (!io::isDirectory(dir)) fail(hr::fileNotFound, "{}: directory does not exist", dir);
    StandardHeader sh = readStandardHeader(dir, name);
    std::vector<std::shared_ptr<RegionSource>> regions;
    size_t total = 0;
    for (const auto& set : sh.regionSets) total += set.count;
    if (total == 0 || total > kMaxRegions) fail(hr::corrupt, "{}: {} regions", io::joinPath(dir, name), total);
    for (const auto& set : sh.regionSets) {
        Guid id;
        std::memcpy(id.bytes.data(), set.id, 16);
        for (uint32_t i = 0; i < set.count; ++i) {
            std::string path = regionFilePath(dir, "region", id, i);
            auto file = std::make_shared<io::File>(io::File::open(path, O_RDONLY));
            uint64_t size = file->size();
            auto src = fileRegion(file, 0, size, io::baseName(path));
            if (checkRegionHeader(*src) == RegionType::metadata && size <= kMaxInMemoryMetadata) src = loadIntoMemory(*src);
            regions.push_back(std::move(src));
        }
    }
    return std::make_shared<Image>(io::joinPath(dir, name), std::move(regions), sh.header.filesystemOffset);
}

}  // namespace cim::image
