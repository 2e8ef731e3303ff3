// Usage: OpenCim.Generator <cimfs.h> <Native.g.cs> [--layout-c <layout.c>]
// Exit code 1 with "file:line: reason" when the header contains something it does not understand.
using System;
using System.IO;
using OpenCim.Generator;

if (args.Length is not (2 or 4) || (args.Length == 4 && args[2] != "--layout-c"))
{
    Console.Error.WriteLine("usage: OpenCim.Generator <cimfs.h> <Native.g.cs> [--layout-c <layout.c>]");
    return 2;
}
try
{
    string header = args[0];
    var decls = HeaderParser.Parse(File.ReadAllText(header), header);
    // The header's path as the repository names it, so the output does not depend on where the tree is.
    string name = "include/opencim/" + Path.GetFileName(header);
    File.WriteAllText(args[1], CSharpEmitter.Emit(decls, name).ReplaceLineEndings("\n"));
    if (args.Length == 4) File.WriteAllText(args[3], LayoutProgramEmitter.Emit(decls));
    return 0;
}
catch (Exception e) when (e is HeaderFormatException or InvalidOperationException or IOException)
{
    Console.Error.WriteLine($"generator: {e.Message}");
    return 1;
}
