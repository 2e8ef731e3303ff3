// Opening a Writer for CimCreateImage/CimCreateImage2: the name combinations (new, overwrite,
// fork) and the checks Windows performs before any byte is written.
#pragma once
#include <memory>
#include <string>

#include "image/writer.h"

namespace cim::image {

// `existing`/`newName` are nullptr when absent. Flags are CIM_CREATE_IMAGE_* (already validated).
std::unique_ptr<Writer> createStandardImage(const std::string& dir, const char* existing, const char* newName, uint32_t flags);

// Validates an image or CIM name: non-empty, no '/' or NUL, not "." or "..", at most 255 bytes.
void checkImageName(const char* op, const std::string& where, const std::string& name);

}  // namespace cim::image
