package cimfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cimfs "github.com/opencim/opencim/bindings/go"
)

func TestGUID(t *testing.T) {
	g, err := cimfs.ParseGUID("{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}")
	if err != nil {
		t.Fatal(err)
	}
	if g.Data1 != 0x0a1b2c3d || g.Data2 != 0x4e5f || g.Data3 != 0x6071 || g.Data4 != [8]byte{0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9} {
		t.Fatalf("ParseGUID = %+v", g)
	}
	if s := g.String(); s != "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9" {
		t.Fatalf("String = %s", s)
	}
	for _, bad := range []string{"", "0a1b2c3d", "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8fz", "0a1b2c3d_4e5f-6071-8293-a4b5c6d7e8f9"} {
		if _, err := cimfs.ParseGUID(bad); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("ParseGUID(%q): %v", bad, err)
		}
	}
	n, err := cimfs.NewGUID()
	if err != nil {
		t.Fatal(err)
	}
	if back, err := cimfs.ParseGUID(n.String()); err != nil || back != n || n.String()[14] != '4' {
		t.Fatalf("NewGUID %s round trip: %v %v", n, back, err)
	}
	root := t.TempDir()
	t.Setenv("OPENCIM_MOUNT_ROOT", root)
	p, err := cimfs.GetVolumeMountPath(g)
	if err != nil || p != filepath.Join(root, g.String()) {
		t.Fatalf("GetVolumeMountPath = %q, %v", p, err)
	}
}

// mountOrSkip skips only when this machine cannot mount (no /dev/fuse: 0x80070032).
func mountOrSkip(t *testing.T, path string, err error) string {
	t.Helper()
	if errors.Is(err, cimfs.HRNotSupported) {
		t.Skipf("cannot mount here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cimfs.Unmount(path) })
	return path
}

func mountSetup(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE device: %v", err)
	}
	t.Setenv("OPENCIM_MOUNT_ROOT", t.TempDir())
}

func checkMounted(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || string(got) != want {
			t.Fatalf("mounted %s = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestMountStandardCIM(t *testing.T) {
	mountSetup(t)
	dir := t.TempDir()
	w, err := cimfs.Create(dir, "", "test.cim")
	if err != nil {
		t.Fatal(err)
	}
	writeEntries(t, w, testContent)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	g, _ := cimfs.NewGUID()
	path, err := cimfs.Mount(filepath.Join(dir, "test.cim"), g, cimfs.CimMountFlagNone)
	mountOrSkip(t, path, err)
	if want, _ := cimfs.GetVolumeMountPath(g); path != want {
		t.Fatalf("Mount returned %q, GetVolumeMountPath %q", path, want)
	}
	checkMounted(t, path, map[string]string{"foobar.txt": "foobar test data", "foo/bar.txt": "bar test data"})

	_, err = cimfs.Mount(filepath.Join(dir, "test.cim"), g, cimfs.CimMountFlagNone)
	wantHR(t, err, cimfs.HRAlreadyExists)
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("second mount on one GUID: %v", err)
	}
	if err := cimfs.Unmount(path); err != nil {
		t.Fatal(err)
	}
	err = cimfs.UnmountGUID(g)
	wantHR(t, err, cimfs.HRFileNotFound)
	if _, err := cimfs.Mount(filepath.Join(dir, "missing.cim"), g, 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("mount of a missing image: %v", err)
	}
	if err := cimfs.Unmount("not a volume"); !errors.Is(err, os.ErrInvalid) {
		t.Fatalf("Unmount(garbage): %v", err)
	}
}

func TestMountMergedBlockCIMs(t *testing.T) {
	mountSetup(t)
	dir := t.TempDir()
	sources := []*cimfs.BlockCIM{
		newBlockCIM(t, dir, "1", []entry{{path: "foo.txt", data: "foo1"}}),
		newBlockCIM(t, dir, "2", []entry{{path: "bar.txt", data: "bar"}}),
		newBlockCIM(t, dir, "3", []entry{{path: "foo.txt", data: "foo2"}}),
	}
	merged := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, "merged.bcim"), CimName: "merged.cim"}
	if err := cimfs.MergeBlockCIMs(merged, sources); err != nil {
		t.Fatal(err)
	}
	g, _ := cimfs.NewGUID()
	path, err := cimfs.MountMergedBlockCIMs(merged, sources, 0, g)
	mountOrSkip(t, path, err)
	checkMounted(t, path, map[string]string{"foo.txt": "foo1", "bar.txt": "bar"})
	// hcsshim's volume path form is accepted too.
	if err := cimfs.Unmount(`\\?\Volume{` + g.String() + `}\`); err != nil {
		t.Fatal(err)
	}
}

func TestMountVerifiedBlockCIM(t *testing.T) {
	mountSetup(t)
	dir := t.TempDir()
	b, hash := newVerified(t, dir, "verified", []entry{{path: "foo.txt", data: "foo"}, {path: "bar.txt", data: "bar"}})
	g, _ := cimfs.NewGUID()
	path, err := cimfs.MountVerifiedBlockCIM(b, 0, g, hash)
	mountOrSkip(t, path, err)
	checkMounted(t, path, map[string]string{"foo.txt": "foo", "bar.txt": "bar"})
	if err := cimfs.Unmount(path); err != nil {
		t.Fatal(err)
	}
	wrong := append([]byte(nil), hash...)
	wrong[0]++
	g2, _ := cimfs.NewGUID()
	_, err = cimfs.MountVerifiedBlockCIM(b, 0, g2, wrong)
	wantHR(t, err, cimfs.HRIntegrityViolation)
	if !strings.Contains(err.Error(), "integrity violation") {
		t.Fatalf("wrong-hash mount message: %v", err)
	}
}
