// Maps tar entries to LayerOps for one layer format. Implementations: windows_layer.cpp and
// linux_layer.cpp.
#pragma once
#include <memory>

#include "layer/layer_op.h"
#include "layer/layer_path.h"
#include "layer/tar_entry.h"

namespace cim::layer {

class EntryMapper {
public:
    virtual ~EntryMapper() = default;
    // `what` names the entry in messages. Throws ERROR_INVALID_DATA for hostile/corrupt entries.
    virtual LayerOp map(const TarEntry& e, const std::string& what) = 0;
};

std::unique_ptr<EntryMapper> makeWindowsMapper();
std::unique_ptr<EntryMapper> makeLinuxMapper();

// CIM_LAYER_FORMAT_AUTO: Windows if the first entry lies under Files/, Hives/ or UtilityVM/ (any
// case) or carries MSWINDOWS.* records, otherwise Linux.
LayerFormat detectFormat(const TarEntry& first);

}  // namespace cim::layer
