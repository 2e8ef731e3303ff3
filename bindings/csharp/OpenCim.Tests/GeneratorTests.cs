// The generator understands the real header, refuses what it does not understand (naming the
// line), and everything it declares is exported by the library under test.
using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using OpenCim.Generator;
using OpenCim.Interop;

namespace OpenCim.Tests;

public class GeneratorTests
{
    private const string Prelude = "#include <stdint.h>\n#define CIMFS_API __attribute__((visibility(\"default\")))\ntypedef int32_t HRESULT;\n";

    private static string HeaderPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "include", "opencim", "cimfs.h");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("include/opencim/cimfs.h not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void RealHeaderParsesIntoEveryKindOfDeclaration()
    {
        var decls = HeaderParser.Parse(File.ReadAllText(HeaderPath()), "cimfs.h");
        Assert.Contains(decls, d => d is Function { Name: "CimCreateImage" });
        Assert.Contains(decls, d => d is Struct { Name: "CIMFS_FILE_METADATA", Fields.Count: 12 });
        Assert.Contains(decls, d => d is Handle { Name: "CIMFS_READER_HANDLE" });
        Assert.Contains(decls, d => d is Constant { Name: "CIM_MOUNT_VERIFIED_CIM", Literal: "0x80", IsUnsigned: true });
        // Windows-only and C++-only branches are dropped, not bound.
        Assert.DoesNotContain(decls, d => d.Name.Contains("declspec", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("enum E { A };", 4)]
    [InlineData("#define BAD foo(1)", 4)]
    [InlineData("#pragma once", 4)]
    [InlineData("#include <stdio.h>", 4)]
    [InlineData("CIMFS_API HRESULT F(int);", 4)]
    [InlineData("CIMFS_API HRESULT F(unsigned long x);", 4)]
    [InlineData("CIMFS_API HRESULT F(float x);", 4)]
    [InlineData("CIMFS_API HRESULT F(int **x);", 4)]
    [InlineData("CIMFS_API HRESULT F(char * const x);", 4)]
    [InlineData("typedef struct S { int a : 3; } S;", 4)]
    [InlineData("typedef struct S { int a, b; } S;", 4)]
    [InlineData("typedef struct S { double d; } S;", 4)]
    [InlineData("int x;", 4)]
    [InlineData("\n#if FOO > 1\n#endif", 5)]
    [InlineData("#ifdef X", 4)]
    public void UnknownConstructsFailNamingTheLine(string body, int line)
    {
        var e = Assert.ThrowsAny<Exception>(() => HeaderParser.Parse(Prelude + body + "\n", "t.h"));
        Assert.True(e is HeaderFormatException, e.ToString());
        Assert.StartsWith($"t.h:{line}:", e.Message);
    }

    // The handle types the emitter maps, with their releasers, so that a test header is complete.
    private const string Handles =
        "typedef struct CIMFS_IMAGE_HANDLE__ *CIMFS_IMAGE_HANDLE;\nCIMFS_API void CimCloseImage(CIMFS_IMAGE_HANDLE h);\n" +
        "typedef struct CIMFS_STREAM_HANDLE__ *CIMFS_STREAM_HANDLE;\nCIMFS_API HRESULT CimCloseStream(CIMFS_STREAM_HANDLE h);\n" +
        "typedef struct CIMFS_READER_HANDLE__ *CIMFS_READER_HANDLE;\nCIMFS_API void CimCloseReader(CIMFS_READER_HANDLE h);\n";

    [Fact]
    public void UnmappableTypesFailInTheEmitter()
    {
        Assert.Contains("CimCloseReader(nint h)", CSharpEmitter.Emit(HeaderParser.Parse(Prelude + Handles, "t.h"), "t.h"));
        var decls = HeaderParser.Parse(Prelude + Handles + "typedef struct S { int a; } S;\nCIMFS_API HRESULT F(S s);\n", "t.h");
        var e = Assert.Throws<InvalidOperationException>(() => CSharpEmitter.Emit(decls, "t.h"));
        Assert.Contains("by pointer", e.Message);
        var handle = HeaderParser.Parse(Prelude + Handles + "typedef struct NEW_HANDLE__ *NEW_HANDLE;\n", "t.h");
        Assert.Contains("new handle type NEW_HANDLE", Assert.Throws<InvalidOperationException>(() => CSharpEmitter.Emit(handle, "t.h")).Message);
        var outParam = HeaderParser.Parse(Prelude + Handles + "CIMFS_API HRESULT G(CIMFS_READER_HANDLE *out, int x);\n", "t.h");
        Assert.Contains("last, non-const", Assert.Throws<InvalidOperationException>(() => CSharpEmitter.Emit(outParam, "t.h")).Message);
    }

    [Fact]
    public void EveryDeclaredFunctionIsExportedByTheLibrary()
    {
        string? dir = Environment.GetEnvironmentVariable("OPENCIM_BUILD_DIR");
        Assert.False(string.IsNullOrEmpty(dir), "OPENCIM_BUILD_DIR is not set: run the tests with bindings/csharp/test.sh");
        nint lib = NativeLibrary.Load(Path.Combine(dir!, "libopencim.so"));
        try
        {
            var missing = typeof(Native).GetMethods(BindingFlags.Public | BindingFlags.Static)
                .Where(m => m.GetCustomAttribute<LibraryImportAttribute>() is not null)
                .Select(m => m.Name)
                .Where(name => !NativeLibrary.TryGetExport(lib, name, out _))
                .ToList();
            Assert.True(missing.Count == 0, "declared in cimfs.h but not exported: " + string.Join(", ", missing));
        }
        finally
        {
            NativeLibrary.Free(lib);
        }
    }
}
