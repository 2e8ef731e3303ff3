// The generated structs must have exactly the C layout.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using OpenCim.Interop;

namespace OpenCim.Tests;

public class LayoutTests
{
    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    [Fact]
    public void FileMetadataMatchesContract()
    {
        Assert.Equal(96, Marshal.SizeOf<CIMFS_FILE_METADATA>());
        Assert.Equal(96, Unsafe.SizeOf<CIMFS_FILE_METADATA>());
        string[] fields = ["Attributes", "FileSize", "CreationTime", "LastWriteTime", "ChangeTime", "LastAccessTime",
                           "SecurityDescriptorBuffer", "SecurityDescriptorSize", "ReparseDataBuffer", "ReparseDataSize",
                           "ExtendedAttributes", "EACount"];
        int[] offsets = [0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88];
        for (int i = 0; i < fields.Length; i++) Assert.Equal(offsets[i], Offset<CIMFS_FILE_METADATA>(fields[i]));
    }

    [Fact]
    public void FileInfoMatchesContract()
    {
        Assert.Equal(64, Marshal.SizeOf<CIMFS_FILE_INFO>());
        string[] fields = ["Size", "Attributes", "FileId", "FileSize", "CreationTime", "LastWriteTime", "ChangeTime",
                           "LastAccessTime", "LinkCount", "ReparseTag"];
        int[] offsets = [0, 4, 8, 16, 24, 32, 40, 48, 56, 60];
        for (int i = 0; i < fields.Length; i++) Assert.Equal(offsets[i], Offset<CIMFS_FILE_INFO>(fields[i]));
    }

    [Fact]
    public void SmallStructsMatchContract()
    {
        Assert.Equal(16, Marshal.SizeOf<CIMFS_IMAGE_PATH>());
        Assert.Equal(0, Offset<CIMFS_IMAGE_PATH>("ImageDir"));
        Assert.Equal(8, Offset<CIMFS_IMAGE_PATH>("ImageName"));
        Assert.Equal(16, Marshal.SizeOf<CIMFS_GUID>());
        Assert.Equal(0, Offset<CIMFS_GUID>("Data1"));
        Assert.Equal(4, Offset<CIMFS_GUID>("Data2"));
        Assert.Equal(6, Offset<CIMFS_GUID>("Data3"));
        Assert.Equal(8, Offset<CIMFS_GUID>("Data4"));
    }

    [Fact]
    public void ImportStructsMatchContract()
    {
        Assert.Equal(40, Marshal.SizeOf<CIMFS_IMPORT_OPTIONS>());
        string[] o = ["Size", "Flags", "LayerFormat", "Threads", "MaxUncompressedBytes", "NumParentLayers", "Reserved", "ParentLayers"];
        int[] oo = [0, 4, 8, 12, 16, 24, 28, 32];
        for (int i = 0; i < o.Length; i++) Assert.Equal(oo[i], Offset<CIMFS_IMPORT_OPTIONS>(o[i]));
        Assert.Equal(56, Marshal.SizeOf<CIMFS_IMPORT_RESULT>());
        string[] r = ["Size", "Reserved", "Entries", "DataBytes", "RootHash"];
        int[] ro = [0, 4, 8, 16, 24];
        for (int i = 0; i < r.Length; i++) Assert.Equal(ro[i], Offset<CIMFS_IMPORT_RESULT>(r[i]));
    }

    /// <summary>Every struct and field against what the C compiler reports for the header
    /// (test.sh compiles the program the generator writes with --layout-c).</summary>
    [Fact]
    public void EveryStructMatchesTheCCompiler()
    {
        string? file = Environment.GetEnvironmentVariable("OPENCIM_C_LAYOUT");
        Assert.False(string.IsNullOrEmpty(file), "OPENCIM_C_LAYOUT is not set: run the tests with bindings/csharp/test.sh");
        var c = File.ReadAllLines(file!).Where(l => l.Length > 0)
                    .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => int.Parse(p[1]));
        Assert.NotEmpty(c);

        var structs = typeof(Native).Assembly.GetTypes()
            .Where(t => t.Namespace == "OpenCim.Interop" && t.IsValueType && t.IsPublic).ToList();
        var seen = new HashSet<string>();
        foreach (Type t in structs)
        {
            Assert.True(c.ContainsKey(t.Name), $"C# struct {t.Name} is not in the C header");
            Assert.Equal((t.Name, c[t.Name]), (t.Name, Marshal.SizeOf(t)));
            seen.Add(t.Name);
            foreach (FieldInfo f in t.GetFields(BindingFlags.Public | BindingFlags.Instance))
            {
                string key = $"{t.Name}.{f.Name}";
                Assert.True(c.ContainsKey(key), $"C# field {key} is not in the C header");
                Assert.Equal((key, c[key]), (key, (int)Marshal.OffsetOf(t, f.Name)));
                seen.Add(key);
            }
        }
        Assert.Empty(c.Keys.Except(seen));
    }
}

file static class Unsafe
{
    public static unsafe int SizeOf<T>() where T : unmanaged => sizeof(T);
}
