package cimfs_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	cimfs "github.com/opencim/opencim/bindings/go"
)

func TestContainerRootfsLifecycle(t *testing.T) {
	if _, err := os.Stat("/dev/fuse"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and /dev/fuse")
	}
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("OPENCIM_MOUNT_ROOT", filepath.Join(dir, "volumes"))
	t.Setenv("OPENCIM_STATE_DIR", filepath.Join(dir, "state"))
	var layers []cimfs.RootfsLayer
	for _, l := range []struct{ name, file, data string }{{"top", "a.txt", "top"}, {"base", "a.txt", "base"}, {"base2", "b.txt", "b"}} {
		bc := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, l.name+".bcim"), CimName: "layer.cim"}
		w, err := cimfs.CreateBlockCIMWithOptions(ctx, bc, cimfs.WithConsistentCIM())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddFile(l.file, &cimfs.FileBasicInfo{FileAttributes: cimfs.FileAttributeArchive}, int64(len(l.data)), nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(l.data)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		layers = append(layers, cimfs.RootfsLayer{BlockPath: bc.BlockPath, CimName: bc.CimName})
	}
	d := &cimfs.LayerDescription{Layers: layers, MergedCacheDir: filepath.Join(dir, "cache")}
	path, err := cimfs.MountContainerRootfs("go-rootfs", d)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(path, "a.txt")); err != nil || string(b) != "top" {
		t.Fatalf("a.txt = %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(path, "b.txt")); err != nil || string(b) != "b" {
		t.Fatalf("b.txt = %q, %v", b, err)
	}
	g1, _ := cimfs.ContainerVolumeID("go-rootfs")
	g2, _ := cimfs.ContainerVolumeID("go-rootfs")
	if g1 != g2 {
		t.Fatal("volume ID is not deterministic")
	}
	if _, err := cimfs.MountContainerRootfs("go-rootfs", d); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second mount: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := cimfs.CleanupContainerRootfs("go-rootfs"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := cimfs.GarbageCollectMergedCims(d.MergedCacheDir); err != nil || n != 1 {
		t.Fatalf("gc removed %d, %v", n, err)
	}
	bad := &cimfs.LayerDescription{Layers: []cimfs.RootfsLayer{{BlockPath: filepath.Join(dir, "missing.bcim"), CimName: "layer.cim"}}}
	if _, err := cimfs.MountContainerRootfs("go-bad", bad); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing layer: %v", err)
	}
}
