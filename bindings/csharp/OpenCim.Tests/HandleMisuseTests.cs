// Closing twice and using closed objects: always a managed exception, never a crash.
using System;
using System.IO;
using System.Linq;
using OpenCim.Interop;
using static OpenCim.Tests.Layers;

namespace OpenCim.Tests;

public class HandleMisuseTests
{
    private static string OneFileImage(TempDir d)
    {
        using var image = CimImage.Create(d.Path, "i.cim");
        image.WriteFile("f", Utf8("content"));
        image.Commit();
        return "i.cim";
    }

    [Fact]
    public void DoubleDisposeIsHarmless()
    {
        using var d = new TempDir();
        var image = CimImage.Create(d.Path, "a.cim");
        Stream s = image.CreateFile("f", CimFileMetadata.File(1));
        s.WriteByte(7);
        s.Dispose();
        s.Dispose();
        image.Commit();
        image.Dispose();
        image.Dispose();

        var r = CimReader.Open(d.Path, "a.cim");
        Stream rs = r.OpenRead("f");
        rs.Dispose();
        rs.Dispose();
        r.Dispose();
        r.Dispose();
    }

    [Fact]
    public void ImageUseAfterDisposeThrowsObjectDisposed()
    {
        using var d = new TempDir();
        var image = CimImage.Create(d.Path, "a.cim");
        image.Dispose();
        Assert.Throws<ObjectDisposedException>(() => image.WriteFile("f", Utf8("x")));
        Assert.Throws<ObjectDisposedException>(() => image.CreateDirectory("d"));
        Assert.Throws<ObjectDisposedException>(() => image.Commit());
        Assert.Throws<ObjectDisposedException>(() => image.DeletePath("f"));
        Assert.Throws<ObjectDisposedException>(() => image.CreateHardLink("a", "b"));
        Assert.Throws<ObjectDisposedException>(() => image.AddMergeSource("x", "y"));
        Assert.False(File.Exists(d["a.cim"]));
    }

    [Fact]
    public void ReaderUseAfterDisposeThrowsObjectDisposed()
    {
        using var d = new TempDir();
        string name = OneFileImage(d);
        var r = CimReader.Open(d.Path, name);
        Stream open = r.OpenRead("f");
        r.Dispose();
        Assert.Throws<ObjectDisposedException>(() => r.Stat("f"));
        Assert.Throws<ObjectDisposedException>(() => r.Exists("f"));
        Assert.Throws<ObjectDisposedException>(() => r.OpenRead("f"));
        Assert.Throws<ObjectDisposedException>(() => r.ReadAllBytes("f"));
        Assert.Throws<ObjectDisposedException>(() => r.EnumerateDirectory(""));
        Assert.Throws<ObjectDisposedException>(() => r.EnumerateStreams("f"));
        Assert.Throws<ObjectDisposedException>(() => r.GetSecurityDescriptor("f"));
        // A stream opened before the reader was closed fails cleanly too.
        Assert.Throws<ObjectDisposedException>(() => open.ReadByte());
        open.Dispose();
        Assert.Throws<ObjectDisposedException>(() => open.ReadByte());
    }

    [Fact]
    public void EnumerationAfterDisposeMidwayThrowsObjectDisposed()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "i.cim"))
        {
            for (int i = 0; i < 5; i++) image.WriteFile($"f{i}", Utf8("x"));
            image.Commit();
        }
        var r = CimReader.Open(d.Path, "i.cim");
        using var e = r.EnumerateDirectory("").GetEnumerator();
        Assert.True(e.MoveNext());
        r.Dispose();
        Assert.Throws<ObjectDisposedException>(() => e.MoveNext());
    }

    [Fact]
    public void StreamOfClosedImageFailsCleanly()
    {
        using var d = new TempDir();
        var image = CimImage.Create(d.Path, "a.cim");
        Stream s = image.CreateFile("f", CimFileMetadata.File(4));
        image.Dispose();
        // The native stream handle is now stale: the library answers E_HANDLE.
        var e = Assert.Throws<ObjectDisposedException>(() => s.Write(Utf8("abcd")));
        Assert.Equal(HResults.InvalidHandle, e.HResult);
        // Closing it reports nothing worse than a stale handle, and the second close is quiet.
        Record.Exception(() => s.Dispose());
        s.Dispose();
        Assert.Throws<ObjectDisposedException>(() => s.Write(Utf8("x")));
    }

    [Fact]
    public void NativeCloseOfNullAndStaleHandlesIsHarmless()
    {
        Native.CimCloseImage(0);
        Native.CimCloseReader(0);
        Native.CimCloseImage(0x7777_0000);
        Native.CimCloseReader(0x7777_0000);
        Assert.Equal(HResults.InvalidHandle, Native.CimCloseStream(0x7777_0000));
        Assert.Equal(HResults.InvalidHandle, Native.CimCloseStream(0));

        using var d = new TempDir();
        string name = OneFileImage(d);
        var r = CimReader.Open(d.Path, name);
        nint raw = r.Handle.DangerousGetHandle();
        r.Dispose();
        // The closed value is never reused, so stale use is detected.
        using var stale = new ReaderHandle(raw, ownsHandle: false);
        unsafe
        {
            CIMFS_FILE_INFO info = default;
            info.Size = (uint)sizeof(CIMFS_FILE_INFO);
            Assert.Equal(HResults.InvalidHandle, Native.CimStatPath(stale, "f", &info));
        }
        Native.CimCloseReader(raw);
    }

    [Fact]
    public void ClosedSafeHandleIsRejectedBeforeNativeCode()
    {
        var h = new ImageHandle();
        h.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Native.CimCommitImage(h));
    }

    [Fact]
    public void AbandonedObjectsAreReleasedByTheFinalizer()
    {
        using var d = new TempDir();
        string name = OneFileImage(d);
        // Not inlined, so no local of this frame keeps the reader alive in any build configuration.
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        WeakReference Open()
        {
            var r = CimReader.Open(d.Path, name);
            r.Stat("f");
            return new WeakReference(r.Handle);
        }
        WeakReference weak = Open();
        for (int i = 0; i < 5 && weak.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(weak.IsAlive);
        // The library still works after finalizer-thread closes.
        using var again = CimReader.Open(d.Path, name);
        Assert.Equal("content", Text(again.ReadAllBytes("f")));
        Assert.Single(again.EnumerateDirectory(""));
    }
}
