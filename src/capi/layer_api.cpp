// Exported layer import/export functions (src/layer/ does the work).
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "capi/guard.h"
#include "io/file.h"
#include "layer/layer_export.h"
#include "layer/layer_import.h"
#include "opencim/cimfs.h"

using namespace cim;
using namespace cim::capi;

namespace {

constexpr uint32_t kKnownImportFlags = CIM_IMPORT_VERIFIED | CIM_IMPORT_VHD_FOOTER | CIM_IMPORT_PROGRESS;

layer::ImportOptions importOptions(const char* op, const CIMFS_IMPORT_OPTIONS* o) {
    layer::ImportOptions r;
    if (!o) return r;
    if (o->Size != sizeof(CIMFS_IMPORT_OPTIONS)) {
        fail(hr::invalidArg, "{}: options->Size is {} (expected {})", op, o->Size, sizeof(CIMFS_IMPORT_OPTIONS));
    }
    if (o->Flags & ~kKnownImportFlags) fail(hr::invalidArg, "{}: unknown flags {:#x}", op, o->Flags & ~kKnownImportFlags);
    if (o->LayerFormat > CIM_LAYER_FORMAT_LINUX) fail(hr::invalidArg, "{}: unknown layer format {}", op, o->LayerFormat);
    if (o->NumParentLayers && !o->ParentLayers) fail(hr::invalidArg, "{}: NumParentLayers is {} but ParentLayers is NULL", op, o->NumParentLayers);
    r.verified = o->Flags & CIM_IMPORT_VERIFIED;
    r.vhdFooter = o->Flags & CIM_IMPORT_VHD_FOOTER;
    r.progress = o->Flags & CIM_IMPORT_PROGRESS;
    if (o->LayerFormat == CIM_LAYER_FORMAT_WINDOWS) r.format = layer::LayerFormat::Windows;
    if (o->LayerFormat == CIM_LAYER_FORMAT_LINUX) r.format = layer::LayerFormat::Linux;
    r.threads = o->Threads;
    r.maxUncompressed = o->MaxUncompressedBytes;
    for (uint32_t i = 0; i < o->NumParentLayers; ++i) {
        const auto& p = o->ParentLayers[i];
        if (!p.ImageDir || !p.ImageName) fail(hr::invalidArg, "{}: parent layer {} has a NULL path or name", op, i);
        r.parents.emplace_back(p.ImageDir, p.ImageName);
    }
    return r;
}

void checkResult(const char* op, CIMFS_IMPORT_RESULT* r) {
    if (r && r->Size != sizeof(CIMFS_IMPORT_RESULT)) {
        fail(hr::invalidArg, "{}: result->Size is {} (expected {})", op, r->Size, sizeof(CIMFS_IMPORT_RESULT));
    }
}

void runImport(const char* op, int fd, const std::string& source, const char* blockPath, const char* cimName,
               const CIMFS_IMPORT_OPTIONS* options, CIMFS_IMPORT_RESULT* result) {
    auto opts = importOptions(op, options);
    try {
        auto r = layer::importLayer(fd, source, blockPath, cimName, opts);
        if (result) {
            std::memset(reinterpret_cast<char*>(result) + sizeof(uint32_t), 0, sizeof(*result) - sizeof(uint32_t));
            result->Entries = r.entries;
            result->DataBytes = r.dataBytes;
            if (opts.verified) std::memcpy(result->RootHash, r.rootHash.data(), 32);
        }
    } catch (const Error& e) {
        if (std::string_view(e.what()).starts_with(op)) throw;
        throw Error(e.code(), fmt::format("{}: {}: {}", op, blockPath, e.what()));
    }
}

}  // namespace

extern "C" {

CIMFS_API HRESULT CimImportLayer(const char* tarPath, const char* blockPath, const char* cimName,
                                 const CIMFS_IMPORT_OPTIONS* options, CIMFS_IMPORT_RESULT* result) {
    const char* op = "CimImportLayer";
    return guard(op, [&] {
        required(tarPath, op, "tarPath");
        required(blockPath, op, "blockPath");
        required(cimName, op, "cimName");
        checkResult(op, result);
        if (std::strcmp(tarPath, "-") == 0) {
            runImport(op, STDIN_FILENO, "(stdin)", blockPath, cimName, options, result);
            return;
        }
        io::File f;
        try {
            f = io::File::open(tarPath, O_RDONLY | O_CLOEXEC);
        } catch (const Error& e) {
            throw Error(e.code(), fmt::format("{}: {}: {}", op, tarPath, e.what()));
        }
        runImport(op, f.fd(), tarPath, blockPath, cimName, options, result);
    });
}

CIMFS_API HRESULT CimImportLayerFromFd(int tarFd, const char* blockPath, const char* cimName,
                                       const CIMFS_IMPORT_OPTIONS* options, CIMFS_IMPORT_RESULT* result) {
    const char* op = "CimImportLayerFromFd";
    return guard(op, [&] {
        if (tarFd < 0) fail(hr::invalidArg, "{}: tarFd {} is not a file descriptor", op, tarFd);
        required(blockPath, op, "blockPath");
        required(cimName, op, "cimName");
        checkResult(op, result);
        runImport(op, tarFd, fmt::format("(fd {})", tarFd), blockPath, cimName, options, result);
    });
}

CIMFS_API HRESULT CimExportLayer(const char* imageContainingPath, const char* imageName, uint32_t flags, uint32_t layerFormat,
                                 const char* tarPath) {
    const char* op = "CimExportLayer";
    return guard(op, [&] {
        required(imageContainingPath, op, "imageContainingPath");
        required(imageName, op, "imageName");
        required(tarPath, op, "tarPath");
        if (layerFormat > CIM_LAYER_FORMAT_LINUX) fail(hr::invalidArg, "{}: unknown layer format {}", op, layerFormat);
        constexpr uint32_t known = CIM_MOUNT_SINGLE_FILE_CIM | CIM_MOUNT_BLOCK_DEVICE_CIM | CIM_MOUNT_CHILD_ONLY | CIM_MOUNT_ENABLE_DAX;
        if (flags & ~known) fail(hr::invalidArg, "{}: unknown or unsupported flags {:#x}", op, flags & ~known);
        if ((flags & CIM_MOUNT_SINGLE_FILE_CIM) && (flags & CIM_MOUNT_BLOCK_DEVICE_CIM)) {
            fail(hr::invalidArg, "{}: single file and block device flags are exclusive", op);
        }
        std::optional<layer::LayerFormat> f;
        if (layerFormat == CIM_LAYER_FORMAT_WINDOWS) f = layer::LayerFormat::Windows;
        if (layerFormat == CIM_LAYER_FORMAT_LINUX) f = layer::LayerFormat::Linux;
        try {
            layer::exportLayer(imageContainingPath, imageName, (flags & (CIM_MOUNT_SINGLE_FILE_CIM | CIM_MOUNT_BLOCK_DEVICE_CIM)) != 0, f,
                               tarPath);
        } catch (const Error& e) {
            if (std::string_view(e.what()).starts_with(op)) throw;
            throw Error(e.code(), fmt::format("{}: {}:{}: {}", op, imageContainingPath, imageName, e.what()));
        }
    });
}

}  // extern "C"
