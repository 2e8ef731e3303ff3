// HRESULT values used by opencim. Contract values (spec/c-abi.md) never change meaning.
#pragma once
#include <cstdint>

namespace cim {

using hresult = std::int32_t;

constexpr hresult hrFromWin32(std::uint32_t e) {
    return e == 0 ? 0 : static_cast<hresult>(0x80070000u | (e & 0xFFFFu));
}

namespace hr {
inline constexpr hresult ok = 0;
inline constexpr hresult notImplemented = static_cast<hresult>(0x80004001u);
inline constexpr hresult pointer = static_cast<hresult>(0x80004003u);
inline constexpr hresult fail = static_cast<hresult>(0x80004005u);
inline constexpr hresult fileNotFound = hrFromWin32(2);       // 0x80070002
inline constexpr hresult pathNotFound = hrFromWin32(3);       // 0x80070003
inline constexpr hresult accessDenied = hrFromWin32(5);       // 0x80070005
inline constexpr hresult invalidHandle = hrFromWin32(6);      // 0x80070006
inline constexpr hresult outOfMemory = hrFromWin32(14);       // 0x8007000E
inline constexpr hresult noMoreFiles = hrFromWin32(18);       // 0x80070012
inline constexpr hresult writeFault = hrFromWin32(29);        // 0x8007001D
inline constexpr hresult readFault = hrFromWin32(30);         // 0x8007001E
inline constexpr hresult sharingViolation = hrFromWin32(32);  // 0x80070020
inline constexpr hresult handleEof = hrFromWin32(38);         // 0x80070026
inline constexpr hresult notSupported = hrFromWin32(50);      // 0x80070032
inline constexpr hresult fileExists = hrFromWin32(80);        // 0x80070050
inline constexpr hresult invalidArg = hrFromWin32(87);        // 0x80070057
inline constexpr hresult diskFull = hrFromWin32(112);         // 0x80070070
inline constexpr hresult insufficientBuffer = hrFromWin32(122); // 0x8007007A
inline constexpr hresult alreadyExists = hrFromWin32(183);    // 0x800700B7
inline constexpr hresult directory = hrFromWin32(267);        // 0x8007010B ERROR_DIRECTORY
inline constexpr hresult integrity = hrFromWin32(323);        // 0x80070143 ERROR_DATA_CHECKSUM_ERROR
inline constexpr hresult corrupt = hrFromWin32(1392);         // 0x80070570 ERROR_FILE_CORRUPT
inline constexpr hresult ioError = hrFromWin32(1117);         // 0x8007045D ERROR_IO_DEVICE
}  // namespace hr

// Maps an errno value from a failed system call to the nearest HRESULT.
hresult hresultFromErrno(int err);

}  // namespace cim
