// opencim from C#: build two container-image layers as block CIMs, merge them, read the merged
// view back without mounting, then seal a layer and open it verified against its root hash.
// Usage: OpenCimSample [WORKDIR]   (default: a new temporary directory, removed at the end)
using System.Text;
using OpenCim;

string work = args.Length > 0 ? args[0] : Directory.CreateTempSubdirectory("opencim-sample-").FullName;
Directory.CreateDirectory(work);
string basePath = Path.Combine(work, "base.bcim");
string topPath = Path.Combine(work, "top.bcim");
string mergedPath = Path.Combine(work, "merged.bcim");
string sealedPath = Path.Combine(work, "sealed.bcim");
var when = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

// 1. The base layer: a small tree.
using (var layer = CimImage.CreateBlock(basePath, "layer.cim"))
{
    layer.CreateDirectory("etc", CimFileMetadata.Directory(when));
    layer.WriteFile("etc/os-release", Bytes("NAME=opencim-sample\n"), CimFileMetadata.File(0, when));
    layer.CreateDirectory("app");
    layer.WriteFile("app/config", Bytes("version=1\n"));
    layer.WriteFile("app/obsolete.txt", Bytes("remove me\n"));
    layer.Commit();
}

// 2. The top layer changes one file, deletes one (a tombstone) and adds one.
using (var layer = CimImage.CreateBlock(topPath, "layer.cim"))
{
    layer.CreateDirectory("app");
    layer.WriteFile("app/config", Bytes("version=2\n"));
    layer.Tombstone("app/obsolete.txt");
    layer.WriteFile("app/new.txt", Bytes("added by the top layer\n"));
    layer.Commit();
}
Console.WriteLine("wrote 2 layers");

// 3. Merge them: sources are added topmost first.
using (var merged = CimImage.CreateBlock(mergedPath, "merged.cim"))
{
    merged.AddMergeSource(topPath, "layer.cim");
    merged.AddMergeSource(basePath, "layer.cim");
    merged.Commit();
}

// 4. Read the merged view: [merged, topmost, ..., base].
using (var reader = CimReader.OpenMerged([
           new CimImagePath(mergedPath, "merged.cim"),
           new CimImagePath(topPath, "layer.cim"),
           new CimImagePath(basePath, "layer.cim")]))
{
    foreach (CimDirectoryEntry e in reader.EnumerateDirectory("app").OrderBy(e => e.Name, StringComparer.Ordinal))
        Console.WriteLine($"merged: app/{e.Name} ({e.Info.Size} bytes)");
    Console.WriteLine($"merged: app/config = {Encoding.UTF8.GetString(reader.ReadAllBytes("app/config")).Trim()}");
    Console.WriteLine($"merged: app/obsolete.txt exists = {reader.Exists("app/obsolete.txt")}");
    CimFileInfo os = reader.Stat("etc/os-release");
    Console.WriteLine($"merged: etc/os-release written {os.LastWriteTime:yyyy-MM-dd}");
    using var stream = new StreamReader(reader.OpenRead("etc/os-release"));
    Console.WriteLine($"merged: {stream.ReadLine()}");
}

// 5. A verified layer: create, commit, seal, then open it against its root hash.
using (var layer = CimImage.CreateBlock(sealedPath, "layer.cim", CimCreateOptions.Verified))
{
    layer.WriteFile("secret.txt", Bytes("integrity-checked data\n"));
    layer.Commit();
}
byte[] rootHash = CimFs.Seal(sealedPath);
Console.WriteLine($"sealed: root hash {Convert.ToHexString(rootHash).ToLowerInvariant()}");
using (var verified = CimReader.OpenVerified(sealedPath, "layer.cim", rootHash))
    Console.WriteLine($"verified: secret.txt = {Encoding.UTF8.GetString(verified.ReadAllBytes("secret.txt")).Trim()}");

byte[] wrong = (byte[])rootHash.Clone();
wrong[0] ^= 0xff;
try
{
    CimReader.OpenVerified(sealedPath, "layer.cim", wrong).Dispose();
    Console.WriteLine("verified: wrong hash accepted (BUG)");
    return 1;
}
catch (CimIntegrityException e)
{
    Console.WriteLine($"verified: wrong hash rejected (HRESULT 0x{e.HResult:X8})");
}

if (args.Length == 0) Directory.Delete(work, recursive: true);
Console.WriteLine("sample: ok");
return 0;
