// Times N calls of CimStatPath on one path through the C# binding and prints one line:
//   csharp <ns_per_call>
// Usage: StatBench [--iterations N] [--raw] [--image BLOCKFILE CIMNAME PATH]
//   --raw    the bare FFI call: CimStatPath through an unmanaged function pointer with the path
//            converted to UTF-8 once and the raw handle value, instead of CimReader.Stat (the call
//            an application makes, which converts the path and guards the SafeHandle each time)
//   --image  stat PATH in an existing single-file block CIM; by default a small one is created
//            in a temporary directory and "dir/file" is stat'ed
// Diagnostics go to stderr so stdout carries only the result line.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using OpenCim;
using OpenCim.Interop;

long iterations = 1_000_000;
bool raw = false;
string? block = null, cimName = null, path = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--iterations": iterations = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--raw": raw = true; break;
        case "--image": block = args[++i]; cimName = args[++i]; path = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

string? temp = null;
if (block is null)
{
    temp = Directory.CreateTempSubdirectory("opencim-bench-").FullName;
    block = Path.Combine(temp, "bench.bcim");
    cimName = "layer.cim";
    path = "dir/file";
    using var image = CimImage.CreateBlock(block, cimName);
    image.CreateDirectory("dir");
    image.WriteFile(path, "benchmark"u8);
    image.Commit();
}

try
{
    using var reader = CimReader.OpenBlock(block, cimName!);
    Func<long, long> run = raw ? n => RawLoop(reader.Handle, path!, n) : n => SafeLoop(reader, path!, n);
    // Warm-up: lets tiered JIT promote the loop and the marshalling stubs before timing.
    run(Math.Max(iterations / 10, 10_000));
    long best = long.MaxValue;
    for (int round = 0; round < 3; round++) best = Math.Min(best, run(iterations));
    double ns = best * (1e9 / Stopwatch.Frequency) / iterations;
    Console.Error.WriteLine($"csharp: {iterations} x {(raw ? "raw CimStatPath" : "CimReader.Stat")}(\"{path}\"), best of 3");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"csharp {ns:F1}"));
}
finally
{
    if (temp is not null) Directory.Delete(temp, recursive: true);
}
return 0;

static long SafeLoop(CimReader reader, string path, long n)
{
    long sink = 0, t0 = Stopwatch.GetTimestamp();
    for (long i = 0; i < n; i++) sink += reader.Stat(path).Size;
    long elapsed = Stopwatch.GetTimestamp() - t0;
    GC.KeepAlive(sink);
    return elapsed;
}

static unsafe long RawLoop(ReaderHandle handle, string path, long n)
{
    // The same library the binding loaded (same resolution order), so the same handle table.
    string? lib = Environment.GetEnvironmentVariable("OPENCIM_LIB");
    string? dir = Environment.GetEnvironmentVariable("OPENCIM_BUILD_DIR");
    nint module = NativeLibrary.Load(!string.IsNullOrEmpty(lib) ? lib
                                     : !string.IsNullOrEmpty(dir) ? Path.Combine(dir, "libopencim.so") : "libopencim.so.1");
    var stat = (delegate* unmanaged<nint, byte*, CIMFS_FILE_INFO*, int>)NativeLibrary.GetExport(module, "CimStatPath");
    byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(path + "\0");
    bool added = false;
    handle.DangerousAddRef(ref added);
    try
    {
        nint h = handle.DangerousGetHandle();
        CIMFS_FILE_INFO info = default;
        long sink = 0, t0 = Stopwatch.GetTimestamp();
        fixed (byte* p = utf8)
        {
            for (long i = 0; i < n; i++)
            {
                info.Size = (uint)sizeof(CIMFS_FILE_INFO);
                if (stat(h, p, &info) < 0) throw new InvalidOperationException("CimStatPath failed");
                sink += info.FileSize;
            }
        }
        long elapsed = Stopwatch.GetTimestamp() - t0;
        GC.KeepAlive(sink);
        return elapsed;
    }
    finally
    {
        if (added) handle.DangerousRelease();
    }
}
