package cimfs_test

// hcsshim pkg/cimfs/cim_test.go scenarios, through the Go binding.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	cimfs "github.com/opencim/opencim/bindings/go"
)

func TestStandardCIMReadWrite(t *testing.T) {
	dir := t.TempDir()
	w, err := cimfs.Create(dir, "", "test.cim")
	if err != nil {
		t.Fatal(err)
	}
	writeEntries(t, w, testContent)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := cimfs.OpenImage(filepath.Join(dir, "test.cim"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkContent(t, r, testContent)

	root, err := r.ReadDir("")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range root {
		names = append(names, e.Name)
	}
	if !reflect.DeepEqual(names, []string{"foo", "foobar.txt"}) {
		t.Fatalf("ReadDir(root) = %v", names)
	}
	fi, err := r.Stat(`foo\bar.txt`) // both separators are accepted
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size != int64(len("bar test data")) || fi.LinkCount != 1 || fi.Raw.LastWrite != testTime ||
		!fi.LastWriteTime.Equal(testTime.Time()) || fi.Attributes != cimfs.FileAttributeArchive {
		t.Fatalf("Stat(foo/bar.txt) = %+v", fi)
	}
}

func TestForkedStandardCIM(t *testing.T) {
	dir := t.TempDir()
	w, err := cimfs.Create(dir, "", "parent.cim")
	if err != nil {
		t.Fatal(err)
	}
	writeEntries(t, w, testContent)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w, err = cimfs.Create(dir, "parent.cim", "child.cim")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Unlink("foobar.txt"); err != nil {
		t.Fatal(err)
	}
	writeEntries(t, w, []entry{{path: "new.txt", data: "child data"}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	child, err := cimfs.OpenImage(filepath.Join(dir, "child.cim"))
	if err != nil {
		t.Fatal(err)
	}
	defer child.Close()
	checkContent(t, child, []entry{{path: "foo/bar.txt", data: "bar test data"}, {path: "new.txt", data: "child data"}})
	if _, err := child.Stat("foobar.txt"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("deleted file in fork: %v", err)
	}
	parent, err := cimfs.OpenImage(filepath.Join(dir, "parent.cim"))
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	checkContent(t, parent, testContent)
}

func TestMetadataRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := cimfs.Create(dir, "", "md.cim")
	if err != nil {
		t.Fatal(err)
	}
	sd := []byte{1, 0, 4, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0} // D:NO_ACCESS_CONTROL
	// One FILE_FULL_EA_INFORMATION entry: next 0, flags 0, name length 9, value length 5,
	// "user.test\0" "hello", padded to 4 bytes.
	ea := append([]byte{0, 0, 0, 0, 0, 9, 5, 0}, []byte("user.test\x00hello\x00")...)
	// A REPARSE_DATA_BUFFER: tag, data length, reserved, data.
	reparse := append([]byte{0x0c, 0, 0, 0xa0, 4, 0, 0, 0}, 1, 2, 3, 4)
	info := basicInfo(false)
	info.FileAttributes |= cimfs.FileAttributeReparsePoint | cimfs.FileAttributeHidden
	if err := w.AddFile("meta.txt", info, 3, sd, ea, reparse); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateAlternateStream("meta.txt:extra:$DATA", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	// hcsshim's AddLink order: existing path first, new path second.
	if err := w.AddLink("meta.txt", "link.txt"); err != nil {
		t.Fatal(err)
	}
	writeEntries(t, w, []entry{{path: "ünïcödé ✓.txt", data: "utf-8"}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := cimfs.OpenImage(filepath.Join(dir, "md.cim"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, got := range map[string]func(string) ([]byte, error){
		"SecurityDescriptor": r.SecurityDescriptor, "ExtendedAttributes": r.ExtendedAttributes, "ReparseData": r.ReparseData,
	} {
		want := map[string][]byte{"SecurityDescriptor": sd, "ExtendedAttributes": ea, "ReparseData": reparse}[name]
		b, err := got("meta.txt")
		if err != nil || !bytes.Equal(b, want) {
			t.Fatalf("%s = %x, %v; want %x", name, b, err, want)
		}
	}
	if b, err := r.ReparseData("ünïcödé ✓.txt"); err != nil || b != nil {
		t.Fatalf("ReparseData of a plain file = %x, %v", b, err)
	}
	fi, err := r.Stat("meta.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsReparsePoint() || fi.ReparseTag != 0xa000000c || fi.LinkCount != 2 || fi.Attributes&cimfs.FileAttributeHidden == 0 {
		t.Fatalf("Stat(meta.txt) = %+v", fi)
	}
	link, err := r.Stat("link.txt")
	if err != nil || link.FileID != fi.FileID {
		t.Fatalf("Stat(link.txt) = %+v, %v; want file ID %d", link, err, fi.FileID)
	}
	streams, err := r.Streams("meta.txt")
	if err != nil || !reflect.DeepEqual(streams, []cimfs.StreamInfo{{Name: "extra", Size: 5}}) {
		t.Fatalf("Streams = %+v, %v", streams, err)
	}
	if s := readString(t, r, "meta.txt:extra"); s != "12345" {
		t.Fatalf("stream = %q", s)
	}
	if s := readString(t, r, "ünïcödé ✓.txt"); s != "utf-8" {
		t.Fatalf("unicode file = %q", s)
	}
}

func TestFileReaderSeeker(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes: several chunks
	w, err := cimfs.Create(dir, "", "big.cim")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile("big.bin", basicInfo(false), int64(len(data)), nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	// io.Copy through a bufio-less reader exercises many small Writes.
	if n, err := io.Copy(w, io.LimitReader(bytes.NewReader(data), int64(len(data)))); err != nil || n != int64(len(data)) {
		t.Fatalf("io.Copy = %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := cimfs.OpenImage(filepath.Join(dir, "big.cim"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := r.Open("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(all, data) {
		t.Fatalf("ReadAll: %d bytes, %v", len(all), err)
	}
	if pos, err := f.Seek(-6, io.SeekEnd); err != nil || pos != int64(len(data)-6) {
		t.Fatalf("Seek = %d, %v", pos, err)
	}
	tail := make([]byte, 10)
	n, err := f.Read(tail)
	if err != nil || string(tail[:n]) != "abcdef" {
		t.Fatalf("Read at end = %q, %v", tail[:n], err)
	}
	if _, err := f.Read(tail); err != io.EOF {
		t.Fatalf("Read past end: %v", err)
	}
	buf := make([]byte, 4)
	if n, err := f.ReadAt(buf, 16*1000+3); err != nil || string(buf[:n]) != "3456" {
		t.Fatalf("ReadAt = %q, %v", buf[:n], err)
	}
	if n, err := f.ReadAt(buf, int64(len(data))-2); err != io.EOF || string(buf[:n]) != "ef" {
		t.Fatalf("ReadAt across end = %q, %v", buf[:n], err)
	}
	if _, err := r.Open("foo-missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open(missing): %v", err)
	}
}

func TestWriteSizeChecks(t *testing.T) {
	dir := t.TempDir()
	w, err := cimfs.Create(dir, "", "sizes.cim")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Discard()
	if err := w.AddFile("a.txt", basicInfo(false), 3, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	n, err := w.Write([]byte("abcd"))
	wantHR(t, err, cimfs.HRHandleEOF)
	if n != 0 || !strings.Contains(err.Error(), "wrote too much") {
		t.Fatalf("over-long Write = %d, %v", n, err)
	}
	if _, err := w.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	// The next operation closes the short stream: hcsshim's "incomplete write".
	err = w.AddFile("b.txt", basicInfo(false), 0, nil, nil, nil)
	wantHR(t, err, cimfs.HRHandleEOF)
	if !strings.Contains(err.Error(), "incomplete write") {
		t.Fatalf("short stream: %v", err)
	}
}

func TestInvalidBlockCIMArguments(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for name, b := range map[string]*cimfs.BlockCIM{
		"empty name": {Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, "a.bcim")},
		"empty path": {Type: cimfs.BlockCIMTypeSingleFile, CimName: "foo.cim"},
		"no type":    {Type: cimfs.BlockCIMTypeNone, BlockPath: filepath.Join(dir, "a.bcim"), CimName: "foo.cim"},
	} {
		if _, err := cimfs.CreateBlockCIMWithOptions(ctx, b); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("%s: %v, want os.ErrInvalid", name, err)
		}
	}
	src := func(typ cimfs.BlockCIMType, n string) *cimfs.BlockCIM {
		return &cimfs.BlockCIM{Type: typ, BlockPath: filepath.Join(dir, n+".bcim"), CimName: "layer.cim"}
	}
	single, device := cimfs.BlockCIMTypeSingleFile, cimfs.BlockCIMTypeDevice
	for name, c := range map[string]struct {
		merged  *cimfs.BlockCIM
		sources []*cimfs.BlockCIM
	}{
		"invalid merged type": {src(cimfs.BlockCIMTypeNone, "m"), []*cimfs.BlockCIM{src(single, "1"), src(single, "2")}},
		"mismatched types":    {src(single, "m"), []*cimfs.BlockCIM{src(device, "1"), src(single, "2")}},
		"one source":          {src(single, "m"), []*cimfs.BlockCIM{src(single, "1")}},
	} {
		if err := cimfs.MergeBlockCIMs(c.merged, c.sources); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("merge with %s: %v, want os.ErrInvalid", name, err)
		}
		if _, err := cimfs.OpenMergedImage(c.merged, c.sources); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("open merged with %s: %v, want os.ErrInvalid", name, err)
		}
	}
}

func TestEmptyBlockCIM(t *testing.T) {
	b := newBlockCIM(t, t.TempDir(), "empty", nil)
	r, err := cimfs.OpenBlockImage(b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if entries, err := r.ReadDir(""); err != nil || len(entries) != 0 {
		t.Fatalf("ReadDir = %v, %v", entries, err)
	}
}

func TestSingleFileBlockCIMReadWrite(t *testing.T) {
	b := newBlockCIM(t, t.TempDir(), "layer", testContent)
	r, err := cimfs.OpenBlockImage(b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkContent(t, r, testContent)
}

func TestConsistentBlockCIMsAreIdentical(t *testing.T) {
	dir := t.TempDir()
	a := newBlockCIM(t, dir, "a", testContent, cimfs.WithConsistentCIM())
	b := newBlockCIM(t, dir, "b", testContent, cimfs.WithConsistentCIM())
	da, err := os.ReadFile(a.BlockPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b.BlockPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Fatalf("consistent CIMs differ (%d vs %d bytes)", len(da), len(db))
	}
}

func TestMergeThreeTopmostWins(t *testing.T) {
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
	r, err := cimfs.OpenMergedImage(merged, sources)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if s := readString(t, r, "foo.txt"); s != "foo1" {
		t.Fatalf("foo.txt = %q, want the topmost source's foo1", s)
	}
	if s := readString(t, r, "bar.txt"); s != "bar" {
		t.Fatalf("bar.txt = %q", s)
	}
}

func TestTombstone(t *testing.T) {
	dir := t.TempDir()
	cim1 := newBlockCIM(t, dir, "cim1", testContent)
	cim2 := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, "cim2.bcim"), CimName: "layer.cim"}
	w, err := cimfs.CreateBlockCIM(cim2.BlockPath, cim2.CimName, cim2.Type)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddTombstone("foobar.txt"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	merged := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, "merged.bcim"), CimName: "merged.cim"}
	sources := []*cimfs.BlockCIM{cim2, cim1}
	if err := cimfs.MergeBlockCIMs(merged, sources); err != nil {
		t.Fatal(err)
	}
	r, err := cimfs.OpenMergedImage(merged, sources)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Stat("foobar.txt"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("tombstoned file: %v, want os.ErrNotExist", err)
	}
	checkContent(t, r, testContent[1:])
}

func TestMergeLinkChain(t *testing.T) {
	dir := t.TempDir()
	cim1 := newBlockCIM(t, dir, "cim1", testContent)
	cim2 := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, "cim2.bcim"), CimName: "layer.cim"}
	w, err := cimfs.CreateBlockCIM(cim2.BlockPath, cim2.CimName, cim2.Type)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddMergedLink("foobar.txt", "b_link.txt"); err != nil {
		t.Fatal(err)
	}
	if err := w.AddMergedLink("b_link.txt", "a_link.txt"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	merged := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, "merged.bcim"), CimName: "merged.cim"}
	sources := []*cimfs.BlockCIM{cim2, cim1}
	if err := cimfs.MergeBlockCIMs(merged, sources); err != nil {
		t.Fatal(err)
	}
	r, err := cimfs.OpenMergedImage(merged, sources)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, p := range []string{"a_link.txt", "b_link.txt", "foobar.txt"} {
		if s := readString(t, r, p); s != "foobar test data" {
			t.Fatalf("%s = %q", p, s)
		}
	}
	a, _ := r.Stat("a_link.txt")
	f, _ := r.Stat("foobar.txt")
	if a == nil || f == nil || a.FileID != f.FileID {
		t.Fatalf("merge links do not share the target's file ID: %+v %+v", a, f)
	}
}

// verifiedOrSkip fails the test on any sealing error (sealing is implemented: never a skip).
func verifiedOrSkip(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newVerified(t *testing.T, dir, name string, entries []entry) (*cimfs.BlockCIM, []byte) {
	t.Helper()
	b := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, name+".bcim"), CimName: "layer.cim"}
	w, err := cimfs.CreateBlockCIMWithOptions(context.Background(), b, cimfs.WithDataIntegrity(), cimfs.WithConsistentCIM())
	verifiedOrSkip(t, err)
	writeEntries(t, w, entries)
	verifiedOrSkip(t, w.Close())
	hash, err := cimfs.GetVerificationInfo(b.BlockPath)
	verifiedOrSkip(t, err)
	if len(hash) != 32 || !bytes.Equal(hash, w.RootHash()) {
		t.Fatalf("GetVerificationInfo = %x, Close sealed with %x", hash, w.RootHash())
	}
	return b, hash
}

func TestVerifiedBlockCIM(t *testing.T) {
	dir := t.TempDir()
	entries := []entry{{path: "foo.txt", data: "foo"}, {path: "bar.txt", data: "bar"}}
	b, hash := newVerified(t, dir, "verified", entries)
	r, err := cimfs.OpenVerifiedBlockImage(b, hash)
	if err != nil {
		t.Fatal(err)
	}
	checkContent(t, r, entries)
	r.Close()

	if again, err := cimfs.SealBlockCIM(b.BlockPath); err != nil || !bytes.Equal(again, hash) {
		t.Fatalf("sealing a sealed file = %x, %v; want the existing hash", again, err)
	}

	wrong := append([]byte(nil), hash...)
	wrong[0]++
	_, err = cimfs.OpenVerifiedBlockImage(b, wrong)
	wantHR(t, err, cimfs.HRIntegrityViolation)
	if !strings.Contains(err.Error(), "integrity violation") {
		t.Fatalf("wrong hash message %q lacks \"integrity violation\"", err)
	}
	if _, err := cimfs.OpenVerifiedBlockImage(b, hash[:31]); !errors.Is(err, os.ErrInvalid) {
		t.Fatalf("short hash: %v", err)
	}

	unsealed := newBlockCIM(t, dir, "plain", entries)
	if _, err := cimfs.GetVerificationInfo(unsealed.BlockPath); err == nil || !strings.Contains(err.Error(), "not sealed") {
		t.Fatalf("GetVerificationInfo(unsealed) = %v", err)
	}
}

func TestMergedVerifiedBlockCIMs(t *testing.T) {
	dir := t.TempDir()
	s1, _ := newVerified(t, dir, "1", []entry{{path: "foo.txt", data: "foo1"}})
	s2, _ := newVerified(t, dir, "2", []entry{{path: "bar.txt", data: "bar"}})
	s3, _ := newVerified(t, dir, "3", []entry{{path: "foo.txt", data: "foo2"}})
	sources := []*cimfs.BlockCIM{s1, s2, s3}
	merged := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, "merged.bcim"), CimName: "merged.cim"}
	verifiedOrSkip(t, cimfs.MergeBlockCIMsWithOpts(context.Background(), merged, sources, cimfs.WithDataIntegrity(), cimfs.WithConsistentCIM()))
	hash, err := cimfs.GetVerificationInfo(merged.BlockPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cimfs.OpenMergedVerifiedImage(merged, sources, hash)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if s := readString(t, r, "foo.txt"); s != "foo1" {
		t.Fatalf("foo.txt = %q", s)
	}
	if s := readString(t, r, "bar.txt"); s != "bar" {
		t.Fatalf("bar.txt = %q", s)
	}
	hash[31] ^= 0xff
	_, err = cimfs.OpenMergedVerifiedImage(merged, sources, hash)
	wantHR(t, err, cimfs.HRIntegrityViolation)
}

func TestTamperedVerifiedDataIsDetected(t *testing.T) {
	dir := t.TempDir()
	data := strings.Repeat("verified payload ", 1000)
	b, hash := newVerified(t, dir, "tamper", []entry{{path: "data.txt", data: data}})
	raw, err := os.ReadFile(b.BlockPath)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("verified payload"))
	if i < 0 {
		t.Skip("file data is not stored verbatim; cannot tamper with it")
	}
	raw[i] ^= 0x20
	if err := os.WriteFile(b.BlockPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := cimfs.OpenVerifiedBlockImage(b, hash)
	if err != nil {
		wantHR(t, err, cimfs.HRIntegrityViolation)
		return
	}
	defer r.Close()
	_, err = r.ReadFile("data.txt")
	wantHR(t, err, cimfs.HRIntegrityViolation)
}
