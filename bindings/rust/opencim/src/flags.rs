//! Flag sets of the C API as typed bit sets, so a mount flag cannot be passed where a create
//! flag is expected. Unknown bits are allowed through `from_bits`; the library rejects them with
//! E_INVALIDARG.
use opencim_sys as sys;
use std::ops::{BitOr, BitOrAssign};

macro_rules! flag_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $flag:ident = $value:expr;)* }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name(u32);

        impl $name {
            $($(#[$fmeta])* pub const $flag: $name = $name($value);)*

            /// The set with exactly these bits (unknown bits are passed to the library as is).
            pub const fn from_bits(bits: u32) -> Self {
                $name(bits)
            }
            /// The raw bits passed to the C function.
            pub const fn bits(self) -> u32 {
                self.0
            }
            /// True if every bit of `other` is set.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }
            /// True if no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                $name(self.0 | rhs.0)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, rhs: $name) {
                self.0 |= rhs.0;
            }
        }
    };
}

flag_set! {
    /// `CIM_CREATE_IMAGE_*`: flags of `CimCreateImage2` ([`crate::ImageWriter::create_block`]).
    CreateFlags {
        NONE = sys::CIM_CREATE_IMAGE_NONE;
        /// Accepted for compatibility; opencim always stores plain data.
        DO_NOT_EXPAND_PE_IMAGES = sys::CIM_CREATE_IMAGE_DO_NOT_EXPAND_PE_IMAGES;
        /// Accepted; no effect.
        FIXED_SIZE_CHUNKS = sys::CIM_CREATE_IMAGE_FIXED_SIZE_CHUNKS;
        /// The path is a block device.
        BLOCK_DEVICE = sys::CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM;
        /// The path is a block file (may hold several CIMs).
        SINGLE_FILE = sys::CIM_CREATE_IMAGE_SINGLE_FILE_CIM;
        /// The same calls produce a byte-identical image.
        CONSISTENT = sys::CIM_CREATE_IMAGE_CONSISTENT_CIM;
        /// Seal with [`crate::seal`] after commit.
        VERIFIED = sys::CIM_CREATE_IMAGE_VERIFIED_CIM;
    }
}

flag_set! {
    /// `CIM_MOUNT_*`: flags of the mount functions and of [`crate::Reader`]'s open functions.
    MountFlags {
        NONE = sys::CIM_MOUNT_IMAGE_NONE;
        /// Accepted and ignored, as on current Windows.
        CHILD_ONLY = sys::CIM_MOUNT_CHILD_ONLY;
        /// Accepted; no effect.
        ENABLE_DAX = sys::CIM_MOUNT_ENABLE_DAX;
        /// A block CIM on a block device.
        BLOCK_DEVICE = sys::CIM_MOUNT_BLOCK_DEVICE_CIM;
        /// A block CIM in a block file.
        SINGLE_FILE = sys::CIM_MOUNT_SINGLE_FILE_CIM;
        /// A verified (sealed) block CIM.
        VERIFIED = sys::CIM_MOUNT_VERIFIED_CIM;
    }
}

flag_set! {
    /// `CIM_MERGE_*`: flags of `CimAddFsToMergedImage2` ([`crate::ImageWriter::add_merge_source`]).
    MergeFlags {
        NONE = sys::CIM_MERGE_NONE;
        /// The source is in a block file.
        SINGLE_FILE = sys::CIM_MERGE_SINGLE_FILE;
        /// The source is on a block device.
        BLOCK_DEVICE = sys::CIM_MERGE_BLOCK_DEVICE;
        /// The source is sealed and the merged CIM is verified.
        VERIFIED = sys::CIM_MERGE_VERIFIED_CIM;
    }
}

flag_set! {
    /// `CIM_IMPORT_*`: flags of [`crate::import_layer`].
    ImportFlags {
        NONE = 0;
        /// Seal the block file and write `<dir>/integrity_checksum` (hex root hash).
        VERIFIED = sys::CIM_IMPORT_VERIFIED;
        /// Append a 512-byte fixed VHD footer (after sealing).
        VHD_FOOTER = sys::CIM_IMPORT_VHD_FOOTER;
        /// Draw a progress bar on stderr when it is a terminal.
        PROGRESS = sys::CIM_IMPORT_PROGRESS;
    }
}

impl CreateFlags {
    /// This set with SINGLE_FILE added unless a block type is already chosen.
    pub(crate) fn with_block_default(self) -> Self {
        if self.contains(Self::BLOCK_DEVICE) || self.contains(Self::SINGLE_FILE) {
            self
        } else {
            self | Self::SINGLE_FILE
        }
    }
}

impl MountFlags {
    /// This set with SINGLE_FILE added unless a block type is already chosen.
    pub(crate) fn with_block_default(self) -> Self {
        if self.contains(Self::BLOCK_DEVICE) || self.contains(Self::SINGLE_FILE) {
            self
        } else {
            self | Self::SINGLE_FILE
        }
    }
}
