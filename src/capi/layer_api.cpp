// Exported layer import/export functions. Implemented in src/layer/ (issue: layer import).
#include "capi/guard.h"
#include "opencim/cimfs.h"

using namespace cim;
using namespace cim::capi;

extern "C" {

CIMFS_API HRESULT CimImportLayer(const char*, const char*, const char*, const CIMFS_IMPORT_OPTIONS*, CIMFS_IMPORT_RESULT*) {
    return guard("CimImportLayer", [] { fail(hr::notImplemented, "CimImportLayer: layer import is not implemented yet"); });
}

CIMFS_API HRESULT CimImportLayerFromFd(int, const char*, const char*, const CIMFS_IMPORT_OPTIONS*, CIMFS_IMPORT_RESULT*) {
    return guard("CimImportLayerFromFd", [] { fail(hr::notImplemented, "CimImportLayerFromFd: layer import is not implemented yet"); });
}

CIMFS_API HRESULT CimExportLayer(const char*, const char*, uint32_t, uint32_t, const char*) {
    return guard("CimExportLayer", [] { fail(hr::notImplemented, "CimExportLayer: layer export is not implemented yet"); });
}

}  // extern "C"
