// Exported sealing functions: CimSealImage, CimGetVerificationInformation.
#include <cstring>

#include "block/seal.h"
#include "capi/guard.h"
#include "opencim/cimfs.h"

using namespace cim;
using namespace cim::capi;

extern "C" {

CIMFS_API HRESULT CimSealImage(const char* blockCimPath, uint64_t* hashSize, uint64_t* fixedHeaderSize, uint8_t* hash) {
    const char* op = "CimSealImage";
    return guard(op, [&] {
        required(blockCimPath, op, "blockCimPath");
        required(hash, op, "hash");
        block::Hash root;
        try {
            root = block::sealContainer(blockCimPath);
        } catch (const Error& e) {
            throw withContext(e, op);
        }
        std::memcpy(hash, root.data(), 32);
        if (hashSize) *hashSize = 32;
        if (fixedHeaderSize) *fixedHeaderSize = block::kFixedHeaderSize;
    });
}

CIMFS_API HRESULT CimGetVerificationInformation(const char* blockCimPath, uint32_t* isSealed, uint64_t* hashSize,
                                                uint64_t* signatureSize, uint64_t* fixedHeaderSize, uint8_t* hash,
                                                uint8_t* signature) {
    const char* op = "CimGetVerificationInformation";
    (void)signature;  // opencim has no signatures; the buffer is never written
    return guard(op, [&] {
        required(blockCimPath, op, "blockCimPath");
        block::VerificationInfo info;
        try {
            info = block::verificationInfo(blockCimPath);
        } catch (const Error& e) {
            throw withContext(e, op);
        }
        if (isSealed) *isSealed = info.sealed ? 1 : 0;
        if (hashSize) *hashSize = info.sealed ? 32 : 0;
        if (signatureSize) *signatureSize = 0;
        if (fixedHeaderSize) *fixedHeaderSize = block::kFixedHeaderSize;
        if (hash && info.sealed) std::memcpy(hash, info.rootHash.data(), 32);
    });
}

CIMFS_API HRESULT CimAppendVhdFooter(const char* blockCimPath) {
    const char* op = "CimAppendVhdFooter";
    return guard(op, [&] {
        required(blockCimPath, op, "blockCimPath");
        try {
            block::appendContainerVhdFooter(blockCimPath);
        } catch (const Error& e) {
            throw withContext(e, op);
        }
    });
}

}  // extern "C"
