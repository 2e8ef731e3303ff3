// Finds libopencim for the generated LibraryImport declarations.
using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;

namespace OpenCim.Interop;

/// <summary>
/// Resolves the library name "opencim": the file named by OPENCIM_LIB if set, else
/// libopencim.so in the directory OPENCIM_BUILD_DIR if set (a CMake build directory), else
/// libopencim.so.1 (the SONAME, which runtime installs provide), else the runtime's default
/// probing for "opencim". A variable that is set but names no library fails the first call
/// with a DllNotFoundException naming it rather than silently loading another copy.
/// </summary>
internal static class NativeLibraryResolver
{
    private static int _registered;

    /// <summary>Registers the resolver for this assembly; later calls do nothing.</summary>
    internal static void Register()
    {
        if (System.Threading.Interlocked.Exchange(ref _registered, 1) == 0)
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Native.LibraryName) return 0;
        string? file = Environment.GetEnvironmentVariable("OPENCIM_LIB");
        if (!string.IsNullOrEmpty(file))
        {
            if (NativeLibrary.TryLoad(file, out nint h)) return h;
            throw new DllNotFoundException($"OPENCIM_LIB={file}: cannot load this library");
        }
        string? dir = Environment.GetEnvironmentVariable("OPENCIM_BUILD_DIR");
        if (!string.IsNullOrEmpty(dir))
        {
            foreach (string candidate in new[] { "libopencim.so", "libopencim.so.1", "libopencim.dylib", "opencim.dll" })
            {
                string path = Path.Combine(dir, candidate);
                if (File.Exists(path) && NativeLibrary.TryLoad(path, out nint h)) return h;
            }
            throw new DllNotFoundException($"OPENCIM_BUILD_DIR={dir}: no loadable libopencim.so in this directory");
        }
        if (NativeLibrary.TryLoad("libopencim.so.1", assembly, searchPath, out nint soname)) return soname;
        return 0; // the runtime's default probing for "opencim"
    }
}

public static unsafe partial class Native
{
    // An explicit static constructor runs before the first call of any method of this class, so
    // the resolver is in place before the runtime looks for the library.
    static Native() => NativeLibraryResolver.Register();
}
