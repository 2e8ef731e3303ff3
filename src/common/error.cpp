#include "common/error.h"

#include <cerrno>
#include <cstring>

namespace cim {

hresult hresultFromErrno(int err) {
    switch (err) {
    case 0: return hr::fail;
    case ENOENT: return hr::fileNotFound;
    case ENOTDIR: return hr::pathNotFound;
    case EACCES:
    case EPERM:
    case EROFS: return hr::accessDenied;
    case EEXIST: return hr::fileExists;
    case ENOMEM: return hr::outOfMemory;
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return hr::diskFull;
    case EINVAL: return hr::invalidArg;
    case EBUSY: return hr::sharingViolation;
    case EIO: return hr::ioError;
    case EISDIR: return hr::accessDenied;
    case ENOSYS:
    case EOPNOTSUPP: return hr::notSupported;
    case ENAMETOOLONG: return hr::invalidArg;
    default: return hrFromWin32(1117);
    }
}

void failErrno(int err, const std::string& what) {
    throw Error(hresultFromErrno(err), fmt::format("{}: {}", what, std::strerror(err)));
}

Error withContext(const Error& e, const std::string& prefix) {
    return Error(e.code(), prefix.empty() ? std::string(e.what()) : prefix + ": " + e.what());
}

}  // namespace cim
