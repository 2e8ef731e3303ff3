// Exported reader functions: CimOpenImage ... CimEnumerateAlternateStreams.
#include <cstring>
#include <mutex>

#include "block/block_image.h"
#include "capi/guard.h"
#include "capi/handle_table.h"
#include "common/utf.h"
#include "image/open.h"
#include "opencim/cimfs.h"

using namespace cim;
using namespace cim::capi;

namespace {

constexpr uint32_t kKnownOpenFlags =
    CIM_MOUNT_CHILD_ONLY | CIM_MOUNT_ENABLE_DAX | CIM_MOUNT_BLOCK_DEVICE_CIM | CIM_MOUNT_SINGLE_FILE_CIM | CIM_MOUNT_VERIFIED_CIM;

struct ReaderSession {
    std::shared_ptr<const image::Image> image;
    // The last directory enumerated, so that index-based enumeration is O(n), not O(n^2).
    std::mutex enumMutex;
    uint32_t enumDirId = 0;
    std::shared_ptr<const std::vector<image::DirEntry>> enumChildren;
};

std::shared_ptr<const std::vector<image::DirEntry>> childrenOf(ReaderSession& s, const image::FileNode& dir) {
    {
        std::lock_guard lock(s.enumMutex);
        if (s.enumDirId == dir.id && s.enumChildren) return s.enumChildren;
    }
    auto kids = std::make_shared<const std::vector<image::DirEntry>>(s.image->children(dir));
    std::lock_guard lock(s.enumMutex);
    s.enumDirId = dir.id;
    s.enumChildren = kids;
    return kids;
}

std::shared_ptr<const image::Image> imageOf(CIMFS_READER_HANDLE h, const char* op) {
    return HandleTable::instance().getAs<ReaderSession>(h, HandleKind::reader, op)->image;
}

void checkOpenFlags(const char* op, uint32_t flags, bool merged) {
    if (flags & ~kKnownOpenFlags) fail(hr::invalidArg, "{}: unknown flags {:#x}", op, flags & ~kKnownOpenFlags);
    bool dev = flags & CIM_MOUNT_BLOCK_DEVICE_CIM, single = flags & CIM_MOUNT_SINGLE_FILE_CIM;
    if (dev && single) fail(hr::invalidArg, "{}: block device and single file flags are exclusive", op);
    if (merged && !dev && !single) fail(hr::invalidArg, "{}: merged CIMs are block CIMs: pass a block type flag", op);
}

block::Hash hashArg(const char* op, uint16_t size, const uint8_t* hash) {
    if (size != 32) fail(hr::invalidArg, "{}: hash size {} (SHA-256 root hashes are 32 bytes)", op, size);
    required(hash, op, "hash");
    block::Hash h;
    std::memcpy(h.data(), hash, 32);
    return h;
}

std::shared_ptr<const image::Image> openOne(const char* op, const char* dir, const char* name, uint32_t flags,
                                            const block::Hash* hash) {
    required(dir, op, "imageContainingPath");
    required(name, op, "imageName");
    checkOpenFlags(op, flags, false);
    bool block = flags & (CIM_MOUNT_BLOCK_DEVICE_CIM | CIM_MOUNT_SINGLE_FILE_CIM);
    try {
        if (!block) {
            if (hash) fail(hr::invalidArg, "only block CIMs can be verified");
            return image::openStandard(dir, name);
        }
        return block::openBlock(dir, name, hash);
    } catch (const Error& e) {
        throw withContext(e, fmt::format("{}: {}:{}", op, dir, name));
    }
}

std::shared_ptr<const image::Image> openMergedArg(const char* op, uint32_t n, const CIMFS_IMAGE_PATH* paths, uint32_t flags,
                                                  const block::Hash* hash) {
    checkOpenFlags(op, flags, true);
    if (n < 3) fail(hr::invalidArg, "{}: {} paths: need the merged CIM and at least 2 sources", op, n);
    required(paths, op, "imagePaths");
    std::vector<std::pair<std::string, std::string>> v;
    for (uint32_t i = 0; i < n; ++i) {
        if (!paths[i].ImageDir || !paths[i].ImageName) fail(hr::invalidArg, "{}: path {} has a NULL member", op, i);
        v.emplace_back(paths[i].ImageDir, paths[i].ImageName);
    }
    try {
        return block::openMerged(v, hash);
    } catch (const Error& e) {
        throw withContext(e, op);
    }
}

HRESULT publish(std::shared_ptr<const image::Image> img, CIMFS_READER_HANDLE* out) {
    auto s = std::make_shared<ReaderSession>();
    s->image = std::move(img);
    *out = reinterpret_cast<CIMFS_READER_HANDLE>(HandleTable::instance().add(HandleKind::reader, s));
    return 0;
}

void fillInfo(const image::Image& img, const image::Resolved& r, CIMFS_FILE_INFO* info, const char* op) {
    if (!info) return;
    if (info->Size < sizeof(CIMFS_FILE_INFO)) fail(hr::invalidArg, "{}: CIMFS_FILE_INFO.Size is {} (need {})", op, info->Size, sizeof(CIMFS_FILE_INFO));
    const auto& rec = r.node.rec;
    info->Attributes = r.node.attributes();
    info->FileId = r.node.id;
    info->FileSize = static_cast<int64_t>(r.stream ? format::streamLength(r.stream->stream) : r.node.size());
    info->CreationTime = rec.creationTime;
    info->LastWriteTime = rec.lastWriteTime;
    info->ChangeTime = rec.changeTime;
    info->LastAccessTime = rec.lastAccessTime;
    info->LinkCount = img.linkCount(r.node.id);
    info->ReparseTag = rec.reparseOffset ? rec.reparseTag : 0;
}

void copyOut(const char* op, const std::vector<std::byte>& data, void* buffer, uint32_t* size) {
    required(size, op, "bufferSize");
    uint32_t cap = *size;
    *size = static_cast<uint32_t>(data.size());
    if (data.empty()) return;
    if (cap < data.size()) fail(hr::insufficientBuffer, "{}: buffer of {} bytes, {} needed", op, cap, data.size());
    required(buffer, op, "buffer");
    std::memcpy(buffer, data.data(), data.size());
}

void copyName(const char* op, const std::string& name, char* buffer, uint32_t* size) {
    required(size, op, "nameSize");
    uint32_t cap = *size;
    *size = static_cast<uint32_t>(name.size() + 1);
    if (cap < name.size() + 1) fail(hr::insufficientBuffer, "{}: name buffer of {} bytes, {} needed", op, cap, name.size() + 1);
    required(buffer, op, "nameBuffer");
    std::memcpy(buffer, name.c_str(), name.size() + 1);
}

template <typename F>
HRESULT withPath(const char* op, CIMFS_READER_HANDLE h, const char* path, F&& f) {
    return guard(op, [&] {
        auto img = imageOf(h, op);
        required(path, op, "imageRelativePath");
        try {
            f(*img, img->resolve(std::string_view(path)));
        } catch (const Error& e) {
            // Name the path as the caller spelled it (reader messages use the stored '\\' form).
            std::string_view m = e.what();
            if (m.starts_with(op)) throw;
            throw Error(e.code(), fmt::format("{}: {}: {}", op, path, m));
        }
    });
}

}  // namespace

extern "C" {

CIMFS_API HRESULT CimOpenImage(const char* dir, const char* name, uint32_t flags, CIMFS_READER_HANDLE* out) {
    const char* op = "CimOpenImage";
    return guard(op, [&] {
        required(out, op, "readerHandle");
        *out = nullptr;
        if (flags & CIM_MOUNT_VERIFIED_CIM) fail(hr::invalidArg, "{}: use CimOpenVerifiedImage for verified reads", op);
        publish(openOne(op, dir, name, flags, nullptr), out);
    });
}

CIMFS_API HRESULT CimOpenVerifiedImage(const char* dir, const char* name, uint32_t flags, uint16_t hashSize,
                                       const uint8_t* hash, CIMFS_READER_HANDLE* out) {
    const char* op = "CimOpenVerifiedImage";
    return guard(op, [&] {
        required(out, op, "readerHandle");
        *out = nullptr;
        auto h = hashArg(op, hashSize, hash);
        if (!(flags & (CIM_MOUNT_BLOCK_DEVICE_CIM | CIM_MOUNT_SINGLE_FILE_CIM))) flags |= CIM_MOUNT_SINGLE_FILE_CIM;
        publish(openOne(op, dir, name, flags & ~CIM_MOUNT_VERIFIED_CIM, &h), out);
    });
}

CIMFS_API HRESULT CimOpenMergedImage(uint32_t n, const CIMFS_IMAGE_PATH* paths, uint32_t flags, CIMFS_READER_HANDLE* out) {
    const char* op = "CimOpenMergedImage";
    return guard(op, [&] {
        required(out, op, "readerHandle");
        *out = nullptr;
        publish(openMergedArg(op, n, paths, flags, nullptr), out);
    });
}

CIMFS_API HRESULT CimOpenMergedVerifiedImage(uint32_t n, const CIMFS_IMAGE_PATH* paths, uint32_t flags, uint16_t hashSize,
                                             const uint8_t* hash, CIMFS_READER_HANDLE* out) {
    const char* op = "CimOpenMergedVerifiedImage";
    return guard(op, [&] {
        required(out, op, "readerHandle");
        *out = nullptr;
        auto h = hashArg(op, hashSize, hash);
        publish(openMergedArg(op, n, paths, flags & ~CIM_MOUNT_VERIFIED_CIM, &h), out);
    });
}

CIMFS_API void CimCloseReader(CIMFS_READER_HANDLE h) {
    guard("CimCloseReader", [&] { HandleTable::instance().remove(reinterpret_cast<uintptr_t>(h), HandleKind::reader); });
}

CIMFS_API HRESULT CimStatPath(CIMFS_READER_HANDLE h, const char* path, CIMFS_FILE_INFO* info) {
    const char* op = "CimStatPath";
    return withPath(op, h, path, [&](const image::Image& img, const image::Resolved& r) {
        required(info, op, "info");
        fillInfo(img, r, info, op);
    });
}

CIMFS_API HRESULT CimGetSecurityDescriptor(CIMFS_READER_HANDLE h, const char* path, void* buffer, uint32_t* size) {
    const char* op = "CimGetSecurityDescriptor";
    return withPath(op, h, path, [&](const image::Image& img, const image::Resolved& r) {
        copyOut(op, img.securityDescriptor(r.node), buffer, size);
    });
}

CIMFS_API HRESULT CimGetExtendedAttributes(CIMFS_READER_HANDLE h, const char* path, void* buffer, uint32_t* size) {
    const char* op = "CimGetExtendedAttributes";
    return withPath(op, h, path, [&](const image::Image& img, const image::Resolved& r) {
        copyOut(op, img.extendedAttributes(r.node), buffer, size);
    });
}

CIMFS_API HRESULT CimGetReparseData(CIMFS_READER_HANDLE h, const char* path, void* buffer, uint32_t* size) {
    const char* op = "CimGetReparseData";
    return withPath(op, h, path, [&](const image::Image& img, const image::Resolved& r) {
        copyOut(op, img.reparseData(r.node), buffer, size);
    });
}

CIMFS_API HRESULT CimReadFile(CIMFS_READER_HANDLE h, const char* path, uint64_t offset, void* buffer, uint32_t size,
                              uint32_t* bytesRead) {
    const char* op = "CimReadFile";
    return withPath(op, h, path, [&](const image::Image& img, const image::Resolved& r) {
        required(bytesRead, op, "bytesRead");
        *bytesRead = 0;
        if (size && !buffer) fail(hr::pointer, "{}: {}: buffer is NULL", img.name(), path);
        if (!r.stream && r.node.isDirectory()) fail(hr::accessDenied, "{}: {}: is a directory", img.name(), path);
        const format::Stream& s = r.stream ? r.stream->stream : r.node.rec.defaultStream;
        *bytesRead = static_cast<uint32_t>(img.readStream(s, offset, {static_cast<std::byte*>(buffer), size}));
    });
}

CIMFS_API HRESULT CimEnumerateDirectory(CIMFS_READER_HANDLE h, const char* path, uint32_t index, char* nameBuffer,
                                        uint32_t* nameSize, CIMFS_FILE_INFO* info) {
    const char* op = "CimEnumerateDirectory";
    return withPath(op, h, path, [&](const image::Image& img, const image::Resolved& r) {
        if (r.stream || !r.node.isDirectory()) fail(hr::directory, "{}: {}: not a directory", img.name(), path);
        auto session = HandleTable::instance().getAs<ReaderSession>(h, HandleKind::reader, op);
        auto kidsPtr = childrenOf(*session, r.node);
        const auto& kids = *kidsPtr;
        if (index >= kids.size()) fail(hr::noMoreFiles, "{}: {}: no more entries (index {} of {})", img.name(), path, index, kids.size());
        if (info && info->Size < sizeof(CIMFS_FILE_INFO)) fail(hr::invalidArg, "CIMFS_FILE_INFO.Size is {}", info->Size);
        copyName(op, utf16ToUtf8(kids[index].name), nameBuffer, nameSize);
        fillInfo(img, image::Resolved{img.file(kids[index].id), std::nullopt}, info, op);
    });
}

CIMFS_API HRESULT CimEnumerateAlternateStreams(CIMFS_READER_HANDLE h, const char* path, uint32_t index, char* nameBuffer,
                                               uint32_t* nameSize, uint64_t* streamSize) {
    const char* op = "CimEnumerateAlternateStreams";
    return withPath(op, h, path, [&](const image::Image& img, const image::Resolved& r) {
        auto streams = img.alternateStreams(r.node);
        if (index >= streams.size()) fail(hr::noMoreFiles, "{}: {}: no more streams (index {} of {})", img.name(), path, index, streams.size());
        copyName(op, utf16ToUtf8(streams[index].name), nameBuffer, nameSize);
        if (streamSize) *streamSize = format::streamLength(streams[index].stream);
    });
}

}  // extern "C"
