// Builders shared by the scenario tests.
using System;
using System.Collections.Generic;
using System.Text;

namespace OpenCim.Tests;

internal static class Layers
{
    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public static string Text(byte[] b) => Encoding.UTF8.GetString(b);

    /// <summary>Writes block CIM "layer.cim" into a new block file <paramref name="blockPath"/>.</summary>
    public static void WriteBlock(string blockPath, Action<CimImage> content, CimCreateOptions options = CimCreateOptions.None,
                                  string cimName = "layer.cim")
    {
        using var image = CimImage.CreateBlock(blockPath, cimName, options);
        content(image);
        image.Commit();
    }

    /// <summary>Writes merged CIM "merged.cim" in <paramref name="mergedPath"/> from sources topmost first.</summary>
    public static void Merge(string mergedPath, IEnumerable<string> sourcesTopFirst, CimCreateOptions options = CimCreateOptions.None)
    {
        using var image = CimImage.CreateBlock(mergedPath, "merged.cim", options);
        foreach (string s in sourcesTopFirst) image.AddMergeSource(s, "layer.cim");
        image.Commit();
    }

    public static List<CimImagePath> MergedPaths(string mergedPath, params string[] sourcesTopFirst)
    {
        var paths = new List<CimImagePath> { new(mergedPath, "merged.cim") };
        foreach (string s in sourcesTopFirst) paths.Add(new CimImagePath(s, "layer.cim"));
        return paths;
    }
}
