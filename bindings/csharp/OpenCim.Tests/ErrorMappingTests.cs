// Every documented HRESULT maps to its .NET exception, carrying the code and the library's message.
using System;
using System.IO;
using OpenCim.Interop;
using static OpenCim.Tests.Layers;

namespace OpenCim.Tests;

public class ErrorMappingTests
{
    [Theory]
    [InlineData(0x80070002u, typeof(FileNotFoundException))]
    [InlineData(0x80070003u, typeof(DirectoryNotFoundException))]
    [InlineData(0x80070057u, typeof(ArgumentException))]
    [InlineData(0x80070006u, typeof(ObjectDisposedException))]
    [InlineData(0x80070570u, typeof(InvalidDataException))]
    [InlineData(0x80070143u, typeof(CimIntegrityException))]
    [InlineData(0x8007000Eu, typeof(OutOfMemoryException))]
    [InlineData(0x80070032u, typeof(PlatformNotSupportedException))]
    [InlineData(0x80070026u, typeof(CimException))]
    [InlineData(0x80070050u, typeof(CimException))]
    [InlineData(0x80004005u, typeof(CimException))]
    public void TableMapsEveryCode(uint code, Type expected)
    {
        Exception e = CimError.ToException(unchecked((int)code), "Op: image: path: reason");
        Assert.IsType(expected, e);
        Assert.Equal(unchecked((int)code), e.HResult);
        Assert.Equal("Op: image: path: reason", e.Message);
    }

    [Fact]
    public void SuccessDoesNotThrow()
    {
        CimError.ThrowIfFailed(0);
        CimError.ThrowIfFailed(1); // S_FALSE is success too
    }

    [Fact]
    public void EmptyMessageStillNamesTheCode()
    {
        Exception e = CimError.ToException(unchecked((int)0x80004005), "");
        Assert.Contains("0x80004005", e.Message);
    }

    private static T Check<T>(Func<object?> call, uint code, params string[] inMessage) where T : Exception
    {
        T e = Assert.Throws<T>(() => { call(); });
        Assert.Equal(unchecked((int)code), e.HResult);
        Assert.False(string.IsNullOrEmpty(e.Message));
        foreach (string s in inMessage) Assert.Contains(s, e.Message);
        return e;
    }

    [Fact]
    public void MissingImageIsFileNotFound()
    {
        using var d = new TempDir();
        Check<FileNotFoundException>(() => CimReader.Open(d.Path, "missing.cim"), 0x80070002, "CimOpenImage", "missing.cim");
        Check<FileNotFoundException>(() => CimReader.OpenBlock(d["missing.bcim"], "layer.cim"), 0x80070002);
    }

    [Fact]
    public void MissingPathsInsideAnImage()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "i.cim"))
        {
            image.WriteFile("file", Utf8("x"));
            Check<DirectoryNotFoundException>(() => { image.WriteFile("no/parent", Utf8("x")); return null; }, 0x80070003, "CimCreateFile", "parent directory does not exist");
            Check<DirectoryNotFoundException>(() => { image.DeletePath("absent"); return null; }, 0x80070003);
            image.Commit();
        }
        using var r = CimReader.Open(d.Path, "i.cim");
        Check<FileNotFoundException>(() => r.Stat("absent"), 0x80070002, "CimStatPath", "absent");
        Check<DirectoryNotFoundException>(() => r.Stat("nodir/absent"), 0x80070003);
        Check<DirectoryNotFoundException>(() => CimImage.Create(d["no-such-dir"], "x.cim"), 0x80070003);
    }

    [Fact]
    public void BadArgumentsAreArgumentExceptions()
    {
        using var d = new TempDir();
        using var image = CimImage.Create(d.Path, "i.cim");
        Check<ArgumentException>(() => { image.WriteFile("../escape", Utf8("x")); return null; }, 0x80070057);
        Check<ArgumentException>(() => { image.WriteFile("a\u0001b", Utf8("x")); return null; }, 0x80070057);
        Check<ArgumentException>(() => CimImage.CreateBlock(d["b.bcim"], "x.cim", CimCreateOptions.BlockDevice | CimCreateOptions.SingleFile),
                                 0x80070057);
        Check<ArgumentException>(() => CimReader.OpenVerified(d["b.bcim"], "x.cim", new byte[16]), 0x80070057);
        Check<ArgumentException>(() => CimReader.OpenMerged([new CimImagePath(d["m"], "m.cim")]), 0x80070057);
    }

    [Fact]
    public void CorruptImageIsInvalidData()
    {
        using var d = new TempDir();
        File.WriteAllBytes(d["bad.cim"], new byte[4096]);
        Check<InvalidDataException>(() => CimReader.Open(d.Path, "bad.cim"), 0x80070570, "bad.cim");
        File.WriteAllBytes(d["bad.bcim"], new byte[8192]);
        Check<InvalidDataException>(() => CimReader.OpenBlock(d["bad.bcim"], "layer.cim"), 0x80070570);
    }

    [Fact]
    public void ForeignHandleIsObjectDisposed()
    {
        // A handle value the library never issued: validated, never dereferenced.
        using var fake = new ReaderHandle(0x5eed_0001, ownsHandle: false);
        int hr;
        unsafe
        {
            CIMFS_FILE_INFO info = default;
            info.Size = (uint)sizeof(CIMFS_FILE_INFO);
            hr = Native.CimStatPath(fake, "x", &info);
        }
        Assert.Equal(HResults.InvalidHandle, hr);
        var e = Assert.Throws<ObjectDisposedException>(() => CimError.ThrowIfFailed(hr));
        Assert.Equal(HResults.InvalidHandle, e.HResult);
        Assert.IsAssignableFrom<InvalidOperationException>(e);
    }

    [Fact]
    public void WritePastDeclaredSizeAndIncompleteWriteAreCimExceptions()
    {
        using var d = new TempDir();
        using var image = CimImage.Create(d.Path, "i.cim");
        Stream s = image.CreateFile("f", CimFileMetadata.File(4));
        s.Write(Utf8("abcd"));
        Check<CimException>(() => { s.Write(Utf8("e")); return null; }, 0x80070026);
        s.Dispose();

        Stream shortStream = image.CreateFile("g", CimFileMetadata.File(10));
        shortStream.Write(Utf8("abc"));
        var e = Check<CimException>(() => { shortStream.Dispose(); return null; }, 0x80070026, "incomplete write", "g");
        Assert.IsAssignableFrom<IOException>(e);
        shortStream.Dispose(); // the second dispose is quiet
    }

    [Fact]
    public void OnlyOneOpenStreamPerImage()
    {
        using var d = new TempDir();
        using var image = CimImage.Create(d.Path, "i.cim");
        using Stream first = image.CreateFile("a", CimFileMetadata.File(1));
        Check<CimException>(() => image.CreateFile("b", CimFileMetadata.File(1)), 0x80070020);
        first.WriteByte(1);
    }

    [Fact]
    public void ExistingImageIsACimExceptionWithItsCode()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "i.cim")) image.Commit();
        var e = Assert.Throws<CimException>(() => CimImage.Create(d.Path, "i.cim"));
        Assert.Contains(e.HResult, new[] { HResults.FileExists, HResults.AlreadyExists });
    }

    [Fact]
    public void ReadingADirectoryIsRefused()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "i.cim"))
        {
            image.CreateDirectory("dir");
            image.Commit();
        }
        using var r = CimReader.Open(d.Path, "i.cim");
        Check<CimException>(() => r.OpenRead("dir"), 0x80070005);
    }

    [Fact]
    public void NotADirectoryIsReported()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "i.cim"))
        {
            image.WriteFile("f", Utf8("x"));
            image.Commit();
        }
        using var r = CimReader.Open(d.Path, "i.cim");
        Check<CimException>(() => r.EnumerateDirectory("f").GetEnumerator().MoveNext(), 0x8007010B);
    }

    [Fact]
    public void MountWithoutFuseSupportIsReportedNotCrashed()
    {
        // Mounting needs FUSE; where it is missing the library reports 0x80070032
        // (PlatformNotSupportedException). Either way the binding must surface a typed error or succeed.
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "i.cim")) image.Commit();
        Guid id = Guid.NewGuid();
        Exception? e = Record.Exception(() => CimFs.Mount(d.Path, "i.cim", id));
        if (e is null)
        {
            CimFs.Dismount(id);
            return;
        }
        Assert.True(e is PlatformNotSupportedException or CimException or UnauthorizedAccessException, e.ToString());
        Assert.NotEqual(0, e.HResult);
    }

    [Fact]
    public void VolumeMountPathIsDerivedFromTheGuid()
    {
        Guid id = Guid.Parse("0123abcd-4567-89ab-cdef-0123456789ab");
        string path = CimFs.GetVolumeMountPath(id);
        Assert.EndsWith("/0123abcd-4567-89ab-cdef-0123456789ab", path);
    }

    [Fact]
    public void MessagesAreThreadLocal()
    {
        using var d = new TempDir();
        using (var image = CimImage.Create(d.Path, "i.cim")) image.Commit();
        using var r = CimReader.Open(d.Path, "i.cim");
        string? other = null;
        var t = new System.Threading.Thread(() =>
        {
            try { r.Stat("thread-two-missing"); } catch (FileNotFoundException e) { other = e.Message; }
        });
        var e1 = Assert.Throws<FileNotFoundException>(() => r.Stat("thread-one-missing"));
        t.Start();
        t.Join();
        Assert.Contains("thread-one-missing", e1.Message);
        Assert.Contains("thread-two-missing", other);
    }
}
