// Exported writer functions: CimCreateImage ... CimAddFsToMergedImage2.
#include <fmt/format.h>

#include "block/block_image.h"
#include "capi/guard.h"
#include "capi/handle_table.h"
#include "capi/image_session.h"
#include "common/path.h"
#include "image/create.h"
#include "merge/merge.h"
#include "opencim/cimfs.h"

using namespace cim;
using namespace cim::capi;

namespace {

constexpr uint32_t kKnownCreateFlags = CIM_CREATE_IMAGE_DO_NOT_EXPAND_PE_IMAGES | CIM_CREATE_IMAGE_FIXED_SIZE_CHUNKS |
                                       CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM | CIM_CREATE_IMAGE_SINGLE_FILE_CIM |
                                       CIM_CREATE_IMAGE_CONSISTENT_CIM | CIM_CREATE_IMAGE_VERIFIED_CIM;

std::shared_ptr<ImageSession> session(CIMFS_IMAGE_HANDLE h, const char* op) {
    return HandleTable::instance().getAs<ImageSession>(h, HandleKind::image, op);
}

// The session of a live image handle, locked. A call that looked the handle up just before
// another thread's CimCloseImage finds the writer gone once it holds the lock: E_HANDLE, as if
// it had come a moment later (never a use of the freed writer).
struct LockedSession {
    std::shared_ptr<ImageSession> s;
    std::unique_lock<std::mutex> lock;
    ImageSession* operator->() const { return s.get(); }
};
LockedSession lockedSession(CIMFS_IMAGE_HANDLE h, const char* op) {
    LockedSession l{session(h, op), {}};
    l.lock = std::unique_lock(l.s->mutex);
    if (!l.s->writer) fail(hr::invalidHandle, "{}: the image handle was closed by another thread", op);
    return l;
}

std::span<const std::byte> bytesOf(const void* p, uint32_t n, const char* op, const char* what) {
    if (n == 0) return {};
    if (!p) fail(hr::invalidArg, "{}: {} size is {} but the pointer is NULL", op, what, n);
    return {static_cast<const std::byte*>(p), n};
}

ImagePath parse(const char* op, const std::string& image, const char* path, StreamSyntax s) {
    required(path, op, "imageRelativePath");
    try {
        return parseImagePath(path, s);
    } catch (const Error& e) {
        throw Error(e.code(), fmt::format("{}: {}: {}: {}", op, image, path, e.what()));
    }
}

HRESULT createImage(const char* op, const char* dir, uint32_t flags, const char* existing, const char* newName,
                    CIMFS_IMAGE_HANDLE* out) {
    return guard(op, [&] {
        required(out, op, "cimImageHandle");
        *out = nullptr;
        required(dir, op, "imageContainingPath");
        if (flags & ~kKnownCreateFlags) fail(hr::invalidArg, "{}: {}: unknown flags {:#x}", op, dir, flags & ~kKnownCreateFlags);
        bool device = flags & CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM, single = flags & CIM_CREATE_IMAGE_SINGLE_FILE_CIM;
        if (device && single) fail(hr::invalidArg, "{}: {}: block device and single file flags are exclusive", op, dir);
        if ((flags & CIM_CREATE_IMAGE_VERIFIED_CIM) && !device && !single) {
            fail(hr::invalidArg, "{}: {}: only block CIMs can be verified", op, dir);
        }
        auto s = std::make_shared<ImageSession>();
        s->createFlags = flags;
        if (device || single) {
            s->blockPath = dir;
            s->writer = block::createBlockImage(dir, existing, newName, flags);
        } else {
            s->writer = image::createStandardImage(dir, existing, newName, flags);
        }
        *out = reinterpret_cast<CIMFS_IMAGE_HANDLE>(HandleTable::instance().add(HandleKind::image, s));
    });
}

}  // namespace

extern "C" {

CIMFS_API HRESULT CimCreateImage(const char* imageContainingPath, const char* existingImageName, const char* newImageName,
                                 CIMFS_IMAGE_HANDLE* cimImageHandle) {
    return createImage("CimCreateImage", imageContainingPath, 0, existingImageName, newImageName, cimImageHandle);
}

CIMFS_API HRESULT CimCreateImage2(const char* imageContainingPath, uint32_t flags, const char* existingImageName,
                                  const char* newImageName, CIMFS_IMAGE_HANDLE* cimImageHandle) {
    return createImage("CimCreateImage2", imageContainingPath, flags, existingImageName, newImageName, cimImageHandle);
}

CIMFS_API HRESULT CimCommitImage(CIMFS_IMAGE_HANDLE h) {
    const char* op = "CimCommitImage";
    return guard(op, [&] {
        auto s = lockedSession(h, op);
        if (!s->mergeSources.empty()) merge::prepareMerge(*s->writer, s->mergeSources, s->createFlags);
        try {
            s->writer->commit();
        } catch (const Error& e) {
            if (std::string_view(e.what()).starts_with(op)) throw;
            throw withContext(e, fmt::format("{}: {}", op, s->writer->name()));
        }
    });
}

CIMFS_API void CimCloseImage(CIMFS_IMAGE_HANDLE h) {
    guard("CimCloseImage", [&] {
        auto s = std::static_pointer_cast<ImageSession>(
            HandleTable::instance().remove(reinterpret_cast<uintptr_t>(h), HandleKind::image));
        if (!s) return;
        std::lock_guard lock(s->mutex);
        s->writer.reset();  // discards everything not committed
    });
}

CIMFS_API HRESULT CimCreateFile(CIMFS_IMAGE_HANDLE h, const char* path, const CIMFS_FILE_METADATA* md,
                                CIMFS_STREAM_HANDLE* out) {
    const char* op = "CimCreateFile";
    return guard(op, [&] {
        if (out) *out = nullptr;
        auto s = lockedSession(h, op);
        required(md, op, "fileMetadata");
        ImagePath p = parse(op, s->writer->name(), path, StreamSyntax::none);
        image::FileMetadata m;
        m.attributes = md->Attributes;
        m.fileSize = md->FileSize;
        m.creationTime = md->CreationTime;
        m.lastWriteTime = md->LastWriteTime;
        m.changeTime = md->ChangeTime;
        m.lastAccessTime = md->LastAccessTime;
        m.securityDescriptor = bytesOf(md->SecurityDescriptorBuffer, md->SecurityDescriptorSize, op, "security descriptor");
        m.reparseData = bytesOf(md->ReparseDataBuffer, md->ReparseDataSize, op, "reparse data");
        m.extendedAttributes = bytesOf(md->ExtendedAttributes, md->EACount, op, "extended attributes");
        uint64_t serial = s->writer->createFile(p, m);
        if (out) {
            auto st = std::make_shared<StreamSession>();
            st->image = s.s;
            st->serial = serial;
            *out = reinterpret_cast<CIMFS_STREAM_HANDLE>(HandleTable::instance().add(HandleKind::stream, st));
        }
    });
}

CIMFS_API HRESULT CimWriteStream(CIMFS_STREAM_HANDLE h, const void* buffer, uint32_t size) {
    const char* op = "CimWriteStream";
    hresult r = guard(op, [&] {
        auto st = HandleTable::instance().getAs<StreamSession>(h, HandleKind::stream, op);
        auto s = st->image.lock();
        if (!s) fail(hr::invalidHandle, "{}: the stream's image handle is closed", op);
        std::lock_guard lock(s->mutex);
        if (!s->writer) fail(hr::invalidHandle, "{}: the stream's image handle is closed", op);
        if (size && !buffer) fail(hr::pointer, "{}: {}: buffer is NULL", op, s->writer->name());
        s->writer->write(st->serial, {static_cast<const std::byte*>(buffer), size});
    });
    return r;
}

CIMFS_API HRESULT CimCloseStream(CIMFS_STREAM_HANDLE h) {
    const char* op = "CimCloseStream";
    return guard(op, [&] {
        auto obj = HandleTable::instance().remove(reinterpret_cast<uintptr_t>(h), HandleKind::stream);
        if (!obj) fail(hr::invalidHandle, "{}: handle {:#x} is not a live stream handle", op, reinterpret_cast<uintptr_t>(h));
        auto st = std::static_pointer_cast<StreamSession>(obj);
        auto s = st->image.lock();
        if (!s) return;  // image already closed: its data was discarded with it
        std::lock_guard lock(s->mutex);
        if (s->writer) s->writer->closeStream(st->serial);
    });
}

CIMFS_API HRESULT CimCreateAlternateStream(CIMFS_IMAGE_HANDLE h, const char* path, uint64_t size, CIMFS_STREAM_HANDLE* out) {
    const char* op = "CimCreateAlternateStream";
    return guard(op, [&] {
        if (out) *out = nullptr;
        auto s = lockedSession(h, op);
        ImagePath p = parse(op, s->writer->name(), path, StreamSyntax::required);
        uint64_t serial = s->writer->createAlternateStream(p, size);
        if (out) {
            auto st = std::make_shared<StreamSession>();
            st->image = s.s;
            st->serial = serial;
            *out = reinterpret_cast<CIMFS_STREAM_HANDLE>(HandleTable::instance().add(HandleKind::stream, st));
        }
    });
}

CIMFS_API HRESULT CimCreateHardLink(CIMFS_IMAGE_HANDLE h, const char* path, const char* existing) {
    const char* op = "CimCreateHardLink";
    return guard(op, [&] {
        auto s = lockedSession(h, op);
        ImagePath p = parse(op, s->writer->name(), path, StreamSyntax::none);
        ImagePath e = parse(op, s->writer->name(), required(existing, op, "existingImageRelativePath"), StreamSyntax::none);
        s->writer->createHardLink(p, e);
    });
}

CIMFS_API HRESULT CimDeletePath(CIMFS_IMAGE_HANDLE h, const char* path) {
    const char* op = "CimDeletePath";
    return guard(op, [&] {
        auto s = lockedSession(h, op);
        s->writer->deletePath(parse(op, s->writer->name(), path, StreamSyntax::optional));
    });
}

CIMFS_API HRESULT CimTombstoneFile(CIMFS_IMAGE_HANDLE h, const char* path) {
    const char* op = "CimTombstoneFile";
    return guard(op, [&] {
        auto s = lockedSession(h, op);
        s->writer->tombstone(parse(op, s->writer->name(), path, StreamSyntax::none));
    });
}

CIMFS_API HRESULT CimCreateMergeLink(CIMFS_IMAGE_HANDLE h, const char* path, const char* existing) {
    const char* op = "CimCreateMergeLink";
    return guard(op, [&] {
        auto s = lockedSession(h, op);
        ImagePath p = parse(op, s->writer->name(), path, StreamSyntax::none);
        ImagePath e = parse(op, s->writer->name(), required(existing, op, "existingImageRelativePath"), StreamSyntax::none);
        s->writer->createMergeLink(p, e);
    });
}

CIMFS_API HRESULT CimAddFsToMergedImage2(CIMFS_IMAGE_HANDLE h, const char* fsPath, uint32_t flags) {
    const char* op = "CimAddFsToMergedImage2";
    return guard(op, [&] {
        auto s = lockedSession(h, op);
        required(fsPath, op, "fsPath");
        merge::checkMergeSource(*s->writer, s->createFlags, s->mergeSources, fsPath, flags);
        s->mergeSources.push_back({fsPath, flags});
    });
}

CIMFS_API HRESULT CimAddFsToMergedImage(CIMFS_IMAGE_HANDLE h, const char* fsPath) {
    const char* op = "CimAddFsToMergedImage";
    return guard(op, [&] {
        auto s = lockedSession(h, op);
        required(fsPath, op, "fsPath");
        // The flag-less form takes the merged CIM's own block type.
        uint32_t flags = (s->createFlags & CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM) ? CIM_MERGE_BLOCK_DEVICE
                         : (s->createFlags & CIM_CREATE_IMAGE_SINGLE_FILE_CIM) ? CIM_MERGE_SINGLE_FILE
                                                                               : 0;
        if (s->createFlags & CIM_CREATE_IMAGE_VERIFIED_CIM) flags |= CIM_MERGE_VERIFIED_CIM;
        merge::checkMergeSource(*s->writer, s->createFlags, s->mergeSources, fsPath, flags);
        s->mergeSources.push_back({fsPath, flags});
    });
}

}  // extern "C"
