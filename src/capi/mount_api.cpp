// Exported mount functions. The FUSE implementation lives in src/fuse/ (issue: mounting).
#include <cstring>

#include "capi/guard.h"
#include "format/guid.h"
#include "opencim/cimfs.h"

using namespace cim;
using namespace cim::capi;

namespace {
std::string mountRoot() {
    const char* r = std::getenv("OPENCIM_MOUNT_ROOT");
    return (r && *r) ? r : "/run/opencim/volumes";
}

format::Guid guidArg(const CIMFS_GUID* id, const char* op) {
    required(id, op, "volumeId");
    format::Guid g;
    std::memcpy(g.bytes.data(), id, 16);
    return g;
}
}  // namespace

extern "C" {

CIMFS_API HRESULT CimGetVolumeMountPath(const CIMFS_GUID* volumeId, char* buffer, uint32_t* bufferSize) {
    const char* op = "CimGetVolumeMountPath";
    return guard(op, [&] {
        std::string path = mountRoot() + "/" + guidArg(volumeId, op).toString();
        required(bufferSize, op, "bufferSize");
        uint32_t cap = *bufferSize;
        *bufferSize = static_cast<uint32_t>(path.size() + 1);
        if (cap < path.size() + 1) fail(hr::insufficientBuffer, "{}: buffer of {} bytes, {} needed", op, cap, path.size() + 1);
        required(buffer, op, "buffer");
        std::memcpy(buffer, path.c_str(), path.size() + 1);
    });
}

CIMFS_API HRESULT CimMountImage(const char*, const char*, uint32_t, const CIMFS_GUID*) {
    return guard("CimMountImage", [] { fail(hr::notImplemented, "CimMountImage: FUSE mounting is not implemented yet"); });
}

CIMFS_API HRESULT CimMountVerifiedImage(const char*, const char*, uint32_t, const CIMFS_GUID*, uint16_t, const uint8_t*) {
    return guard("CimMountVerifiedImage",
                 [] { fail(hr::notImplemented, "CimMountVerifiedImage: FUSE mounting is not implemented yet"); });
}

CIMFS_API HRESULT CimMergeMountImage(uint32_t, const CIMFS_IMAGE_PATH*, uint32_t, const CIMFS_GUID*) {
    return guard("CimMergeMountImage", [] { fail(hr::notImplemented, "CimMergeMountImage: FUSE mounting is not implemented yet"); });
}

CIMFS_API HRESULT CimMergeMountVerifiedImage(uint32_t, const CIMFS_IMAGE_PATH*, uint32_t, const CIMFS_GUID*, uint16_t,
                                             const uint8_t*) {
    return guard("CimMergeMountVerifiedImage",
                 [] { fail(hr::notImplemented, "CimMergeMountVerifiedImage: FUSE mounting is not implemented yet"); });
}

CIMFS_API HRESULT CimDismountImage(const CIMFS_GUID*) {
    return guard("CimDismountImage", [] { fail(hr::notImplemented, "CimDismountImage: FUSE mounting is not implemented yet"); });
}

}  // extern "C"
