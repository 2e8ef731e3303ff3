// OCI whiteouts: ".wh.<name>" deletes <name> from lower layers; ".wh..wh..opq" makes its directory
// opaque. Both formats treat them alike (hcsshim does not special-case the opaque marker for
// Windows layers; opencim follows the OCI image spec there too).
#pragma once
#include <string>
#include <vector>

#include "layer/layer_op.h"
#include "layer/layer_path.h"

namespace cim::layer {

inline constexpr char kWhiteoutPrefix[] = ".wh.";
inline constexpr char kOpaqueWhiteout[] = ".wh..wh..opq";

// Fills `op` and returns true when the last component is a whiteout. The root cannot be opaque
// (0x80070032).
bool mapWhiteout(const std::vector<std::string>& components, LayerFormat f, const std::string& what, LayerOp& op);

}  // namespace cim::layer
