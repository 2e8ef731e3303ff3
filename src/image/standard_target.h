// ImageTarget for standard CIMs: region files are written aside in the image directory as
// ".<name>.tmp-*" files and published at commit as region_<guid>_<i> / objectid_<guid>_<i>,
// followed by the filesystem file, which is renamed into place last (the atomic publish point).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "image/target.h"

namespace cim::image {

std::unique_ptr<ImageTarget> makeStandardTarget(const std::string& dir, const std::string& name, bool replaceExisting);

}  // namespace cim::image
