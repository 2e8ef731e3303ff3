//! FUSE mounts. Run as a single test (this binary sets OPENCIM_MOUNT_ROOT for the process).
//! Skipped with a reason when mounting is unavailable (no /dev/fuse, or not implemented yet).
mod common;

use common::*;
use opencim::{dismount_image, hr, mount_image, volume_mount_path, CreateFlags, Guid, MountFlags};

#[test]
fn mount_read_and_dismount() {
    let d = TempDir::new("mount");
    let root = d.join("volumes");
    // Set before any other thread exists in this test binary (one test only).
    std::env::set_var("OPENCIM_MOUNT_ROOT", &root);

    let id: Guid = "{6B1C2D3E-0F4A-4B5C-9D6E-7F8091A2B3C4}".parse().unwrap();
    assert_eq!(volume_mount_path(&id).unwrap(), root.join("6b1c2d3e-0f4a-4b5c-9d6e-7f8091a2b3c4"));

    let layer = block_layer(&d, "m", CreateFlags::NONE, |w| file(w, "hello.txt", "mounted"));
    let mounted = match mount_image(&layer.dir, &layer.name, MountFlags::SINGLE_FILE, &id) {
        Err(e) if e.code() == hr::E_NOTIMPL || e.kind() == std::io::ErrorKind::Unsupported => {
            eprintln!("skipping the FUSE part: {e}");
            let e = dismount_image(&id).unwrap_err();
            assert!(e.code() == hr::E_NOTIMPL || e.kind() == std::io::ErrorKind::NotFound, "{e}");
            return;
        }
        r => r.unwrap(),
    };
    let result = std::panic::catch_unwind(|| {
        assert_eq!(std::fs::read(mounted.join("hello.txt")).unwrap(), b"mounted");
        // The same GUID twice: 0x800700B7 AlreadyExists.
        let e = mount_image(&layer.dir, &layer.name, MountFlags::SINGLE_FILE, &id).unwrap_err();
        assert_eq!(e.code(), hr::ALREADY_EXISTS, "{e}");
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    });
    dismount_image(&id).unwrap();
    assert!(!mounted.exists(), "dismount removes the mount directory");
    let e = dismount_image(&id).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::NotFound, "{e}");
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
