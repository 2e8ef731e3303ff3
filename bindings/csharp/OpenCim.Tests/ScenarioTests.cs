// hcsshim-style scenarios through the safe API: write and read standard and block CIMs, merges,
// tombstones, merge links.
using System;
using System.IO;
using System.Linq;
using static OpenCim.Tests.Layers;

namespace OpenCim.Tests;

public class ScenarioTests
{
    private static readonly DateTime T0 = new(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);

    [Fact]
    public void StandardCimWriteAndRead()
    {
        using var d = new TempDir();
        byte[] sd = [1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] big = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        using (var image = CimImage.Create(d.Path, "layer.cim"))
        {
            image.CreateDirectory("Files", CimFileMetadata.Directory(T0));
            image.CreateDirectory("Files/sub");
            image.WriteFile("Files/hello.txt", Utf8("hello, world"), CimFileMetadata.File(0, T0) with { SecurityDescriptor = sd });
            using (Stream s = image.CreateFile("Files/sub/big.bin", CimFileMetadata.File(big.Length)))
            {
                // Several writes of different sizes, as a copy loop would do.
                s.Write(big, 0, 1);
                s.Write(big.AsSpan(1, 65535));
                s.Write(big, 65536, big.Length - 65536);
            }
            image.CreateHardLink("Files/link.txt", "Files/hello.txt");
            using (Stream ads = image.CreateAlternateStream("Files/hello.txt:meta", 3)) ads.Write(Utf8("abc"));
            image.WriteFile("Files/empty", []);
            image.Commit();
        }
        Assert.True(File.Exists(d["layer.cim"]));

        using var r = CimReader.Open(d.Path, "layer.cim");
        Assert.Equal("hello, world", Text(r.ReadAllBytes("Files/hello.txt")));
        Assert.Equal("hello, world", Text(r.ReadAllBytes("\\Files\\link.txt")));
        Assert.Equal(big, r.ReadAllBytes("Files/sub/big.bin"));
        Assert.Empty(r.ReadAllBytes("Files/empty"));

        CimFileInfo root = r.Stat("");
        Assert.True(root.IsDirectory);
        CimFileInfo files = r.Stat("Files");
        Assert.True(files.IsDirectory);
        Assert.Equal(T0, files.LastWriteTime);
        CimFileInfo hello = r.Stat("Files/hello.txt");
        Assert.False(hello.IsDirectory);
        Assert.Equal(12, hello.Size);
        Assert.Equal(2u, hello.LinkCount);
        Assert.Equal(hello.FileId, r.Stat("Files/link.txt").FileId);
        Assert.Equal(T0, hello.CreationTime);
        Assert.Equal(DateTimeKind.Utc, hello.CreationTime.Kind);
        Assert.Equal(3, r.Stat("Files/hello.txt:meta").Size);
        Assert.Equal("abc", Text(r.ReadAllBytes("Files/hello.txt:meta")));

        var streams = r.EnumerateStreams("Files/hello.txt").ToList();
        Assert.Equal([new CimStreamInfo("meta", 3)], streams);
        Assert.Equal(sd, r.GetSecurityDescriptor("Files/hello.txt"));
        Assert.Empty(r.GetReparseData("Files/hello.txt"));
        Assert.Empty(r.GetExtendedAttributes("Files/hello.txt"));

        var names = r.EnumerateDirectory("Files").Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.Equal(["empty", "hello.txt", "link.txt", "sub"], names);
        Assert.True(r.EnumerateDirectory("Files").Single(e => e.Name == "sub").Info.IsDirectory);
        Assert.Equal(["Files"], r.EnumerateDirectory("").Select(e => e.Name));
        Assert.True(r.Exists("Files/sub"));
        Assert.False(r.Exists("Files/nope"));
        Assert.False(r.Exists("nodir/nope"));
    }

    [Fact]
    public void ReadStreamSeeksAndReadsPartially()
    {
        using var d = new TempDir();
        byte[] data = Enumerable.Range(0, 10_000).Select(i => (byte)i).ToArray();
        using (var image = CimImage.Create(d.Path, "s.cim"))
        {
            image.WriteFile("f", data);
            image.Commit();
        }
        using var r = CimReader.Open(d.Path, "s.cim");
        using Stream s = r.OpenRead("f");
        Assert.True(s.CanRead && s.CanSeek && !s.CanWrite);
        Assert.Equal(10_000, s.Length);
        s.Seek(-10, SeekOrigin.End);
        byte[] tail = new byte[100];
        Assert.Equal(10, s.Read(tail, 0, 100));
        Assert.Equal(data[^10..], tail[..10]);
        Assert.Equal(0, s.Read(tail, 0, 100));
        Assert.Equal(-1, s.ReadByte());
        s.Position = 256;
        Assert.Equal(0, s.ReadByte());
        s.Seek(9, SeekOrigin.Current);
        Assert.Equal(10, s.ReadByte());
        Assert.Throws<IOException>(() => s.Seek(-1, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => s.Write(tail, 0, 1));
        using var copy = new MemoryStream();
        s.Position = 0;
        s.CopyTo(copy);
        Assert.Equal(data, copy.ToArray());
        Span<byte> mid = stackalloc byte[4];
        Assert.Equal(4, r.Read("f", 5000, mid));
        Assert.Equal(data.AsSpan(5000, 4).ToArray(), mid.ToArray());
    }

    [Fact]
    public void ForkKeepsParentAndAddsChanges()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "base.cim"))
        {
            image.WriteFile("a", Utf8("A"));
            image.WriteFile("b", Utf8("B"));
            image.Commit();
        }
        using (var fork = CimImage.Fork(d.Path, "base.cim", "child.cim"))
        {
            fork.DeletePath("a");
            fork.WriteFile("b", Utf8("B2"));
            fork.WriteFile("c", Utf8("C"));
            fork.Commit();
        }
        using var parent = CimReader.Open(d.Path, "base.cim");
        using var child = CimReader.Open(d.Path, "child.cim");
        Assert.Equal("A", Text(parent.ReadAllBytes("a")));
        Assert.Equal("B", Text(parent.ReadAllBytes("b")));
        Assert.False(child.Exists("a"));
        Assert.Equal("B2", Text(child.ReadAllBytes("b")));
        Assert.Equal("C", Text(child.ReadAllBytes("c")));
    }

    [Fact]
    public void UncommittedImageIsDiscarded()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "gone.cim")) image.WriteFile("x", Utf8("x"));
        Assert.False(File.Exists(d["gone.cim"]));
        Assert.Throws<FileNotFoundException>(() => CimReader.Open(d.Path, "gone.cim"));
    }

    [Fact]
    public void SingleFileBlockCim()
    {
        using var d = new TempDir();
        string block = d["layer.bcim"];
        WriteBlock(block, image =>
        {
            image.CreateDirectory("etc");
            image.WriteFile("etc/hostname", Utf8("box\n"));
        });
        WriteBlock(block, image => image.WriteFile("second", Utf8("2")), cimName: "second.cim");
        Assert.True(File.Exists(block));
        using (var r = CimReader.OpenBlock(block, "layer.cim"))
        {
            Assert.Equal("box\n", Text(r.ReadAllBytes("etc/hostname")));
            Assert.False(r.Exists("second"));
        }
        using (var r = CimReader.OpenBlock(block, "second.cim"))
            Assert.Equal("2", Text(r.ReadAllBytes("second")));
        Assert.Throws<FileNotFoundException>(() => CimReader.OpenBlock(block, "other.cim"));
    }

    [Fact]
    public void MergeOfThreeTopmostWins()
    {
        using var d = new TempDir();
        string top = d["top.bcim"], mid = d["mid.bcim"], bottom = d["base.bcim"], merged = d["merged.bcim"];
        WriteBlock(bottom, i =>
        {
            i.CreateDirectory("dir");
            i.WriteFile("f", Utf8("base"));
            i.WriteFile("dir/from-base", Utf8("b"));
            i.WriteFile("only-base", Utf8("b"));
        });
        WriteBlock(mid, i =>
        {
            i.CreateDirectory("dir");
            i.WriteFile("f", Utf8("mid"));
            i.WriteFile("dir/from-mid", Utf8("m"));
            i.WriteFile("g", Utf8("mid-g"));
        });
        WriteBlock(top, i =>
        {
            i.WriteFile("f", Utf8("top"));
            i.CreateDirectory("dir");
            i.WriteFile("dir/from-top", Utf8("t"));
        });
        Merge(merged, [top, mid, bottom]);

        using var r = CimReader.OpenMerged(MergedPaths(merged, top, mid, bottom));
        Assert.Equal("top", Text(r.ReadAllBytes("f")));
        Assert.Equal("mid-g", Text(r.ReadAllBytes("g")));
        Assert.Equal("b", Text(r.ReadAllBytes("only-base")));
        var dir = r.EnumerateDirectory("dir").Select(e => e.Name).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(["from-base", "from-mid", "from-top"], dir);
    }

    [Fact]
    public void TombstoneHidesLowerLayers()
    {
        using var d = new TempDir();
        string top = d["top.bcim"], bottom = d["base.bcim"], merged = d["merged.bcim"];
        WriteBlock(bottom, i =>
        {
            i.WriteFile("keep", Utf8("k"));
            i.WriteFile("victim", Utf8("v"));
            i.CreateDirectory("tree");
            i.WriteFile("tree/leaf", Utf8("l"));
        });
        WriteBlock(top, i =>
        {
            i.Tombstone("victim");
            i.Tombstone("tree");
            i.WriteFile("new", Utf8("n"));
        });
        Merge(merged, [top, bottom]);

        using (var r = CimReader.OpenMerged(MergedPaths(merged, top, bottom)))
        {
            Assert.True(r.Exists("keep"));
            Assert.True(r.Exists("new"));
            Assert.False(r.Exists("victim"));
            Assert.False(r.Exists("tree"));
            Assert.False(r.Exists("tree/leaf"));
            Assert.Throws<FileNotFoundException>(() => r.Stat("victim"));
        }
        // Read alone, the top layer shows no trace of its tombstones.
        using var alone = CimReader.OpenBlock(top, "layer.cim");
        Assert.Equal(["new"], alone.EnumerateDirectory("").Select(e => e.Name));
    }

    [Fact]
    public void MergeLinkChainResolvesAcrossLayers()
    {
        using var d = new TempDir();
        string top = d["top.bcim"], mid = d["mid.bcim"], bottom = d["base.bcim"], merged = d["merged.bcim"];
        WriteBlock(bottom, i => i.WriteFile("data", Utf8("payload")));
        WriteBlock(mid, i => i.CreateMergeLink("link1", "data"));
        WriteBlock(top, i => i.CreateMergeLink("link2", "link1"));
        Merge(merged, [top, mid, bottom]);

        using var r = CimReader.OpenMerged(MergedPaths(merged, top, mid, bottom));
        Assert.Equal("payload", Text(r.ReadAllBytes("link2")));
        Assert.Equal("payload", Text(r.ReadAllBytes("link1")));
        Assert.Equal(r.Stat("data").FileId, r.Stat("link2").FileId);
        // Merge links are invisible when their layer is read alone.
        using var alone = CimReader.OpenBlock(top, "layer.cim");
        Assert.False(alone.Exists("link2"));
    }

    [Fact]
    public void UnresolvableMergeLinkFailsTheMergeNamingIt()
    {
        using var d = new TempDir();
        string top = d["top.bcim"], bottom = d["base.bcim"];
        WriteBlock(bottom, i => i.WriteFile("data", Utf8("x")));
        WriteBlock(top, i => i.CreateMergeLink("dangling", "missing-target"));
        var e = Assert.ThrowsAny<IOException>(() => Merge(d["merged.bcim"], [top, bottom]));
        Assert.Contains("dangling", e.Message);
        Assert.False(File.Exists(d["merged.bcim"]));
    }
}
