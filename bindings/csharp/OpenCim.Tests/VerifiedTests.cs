// Sealed (verified) block CIMs: seal, verification info, verified opens with the right and a wrong hash.
using System;
using System.IO;
using System.Linq;
using static OpenCim.Tests.Layers;

namespace OpenCim.Tests;

public class VerifiedTests
{
    private static string SealedLayer(TempDir d, string name, string content)
    {
        string block = d[name];
        WriteBlock(block, i =>
        {
            i.CreateDirectory("d");
            i.WriteFile("d/file", Utf8(content));
        }, CimCreateOptions.Verified);
        return block;
    }

    [Fact]
    public void SealReturnsTheHashThatOpensTheImage()
    {
        using var d = new TempDir();
        string block = SealedLayer(d, "v.bcim", "verified content");
        Assert.False(CimFs.GetVerificationInformation(block).IsSealed);

        byte[] hash = CimFs.Seal(block);
        Assert.Equal(32, hash.Length);
        Assert.Contains(hash, b => b != 0);
        Assert.Equal(hash, CimFs.Seal(block)); // sealing again returns the existing hash

        CimVerificationInfo info = CimFs.GetVerificationInformation(block);
        Assert.True(info.IsSealed);
        Assert.Equal(hash, info.RootHash);
        Assert.Equal(4096ul, info.FixedHeaderSize);

        using var r = CimReader.OpenVerified(block, "layer.cim", hash);
        Assert.Equal("verified content", Text(r.ReadAllBytes("d/file")));
        // A sealed CIM opened without a hash is read unverified.
        using var plain = CimReader.OpenBlock(block, "layer.cim");
        Assert.Equal("verified content", Text(plain.ReadAllBytes("d/file")));
    }

    [Fact]
    public void WrongHashIsAnIntegrityViolation()
    {
        using var d = new TempDir();
        string block = SealedLayer(d, "v.bcim", "x");
        byte[] hash = CimFs.Seal(block);
        hash[0] ^= 0xFF;
        var e = Assert.Throws<CimIntegrityException>(() => CimReader.OpenVerified(block, "layer.cim", hash));
        Assert.Equal(HResults.IntegrityViolation, e.HResult);
        Assert.Contains("integrity violation", e.Message);
        Assert.IsAssignableFrom<IOException>(e);
    }

    [Fact]
    public void TamperedDataFailsVerifiedReads()
    {
        using var d = new TempDir();
        string block = SealedLayer(d, "v.bcim", new string('z', 100_000));
        byte[] hash = CimFs.Seal(block);
        // Flip bytes in the middle of the data region, after the fixed header.
        using (var f = new FileStream(block, FileMode.Open, FileAccess.ReadWrite))
        {
            byte[] all = new byte[f.Length];
            f.ReadExactly(all);
            int at = Array.IndexOf(all, (byte)'z', 4096);
            Assert.True(at > 0);
            f.Position = at + 5000;
            f.Write(Utf8("TAMPERED"));
        }
        Exception e = Record.Exception(() =>
        {
            using var r = CimReader.OpenVerified(block, "layer.cim", hash);
            r.ReadAllBytes("d/file");
        });
        var integrity = Assert.IsType<CimIntegrityException>(e);
        Assert.Contains("integrity violation", integrity.Message);
    }

    [Fact]
    public void VerifiedMergeOpensWithTheMergedHash()
    {
        using var d = new TempDir();
        string top = SealedLayer(d, "top.bcim", "top"), bottom = SealedLayer(d, "base.bcim", "base");
        CimFs.Seal(top);
        CimFs.Seal(bottom);
        string merged = d["merged.bcim"];
        Merge(merged, [top, bottom], CimCreateOptions.Verified);
        byte[] hash = CimFs.Seal(merged);

        var paths = MergedPaths(merged, top, bottom);
        using (var r = CimReader.OpenMergedVerified(paths, hash))
            Assert.Equal("top", Text(r.ReadAllBytes("d/file")));
        hash[31] ^= 1;
        Assert.Throws<CimIntegrityException>(() => CimReader.OpenMergedVerified(paths, hash));
    }

    [Fact]
    public void SealingAnUnverifiedBlockCimIsAnArgumentError()
    {
        using var d = new TempDir();
        string block = d["plain.bcim"];
        WriteBlock(block, i => i.WriteFile("f", Utf8("f")));
        var e = Assert.Throws<ArgumentException>(() => CimFs.Seal(block));
        Assert.Equal(HResults.InvalidArg, e.HResult);
        Assert.Throws<FileNotFoundException>(() => CimFs.Seal(d["missing.bcim"]));
    }
}
