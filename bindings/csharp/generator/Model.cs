// What the generator understood of the header, in declaration order.
using System.Collections.Generic;

namespace OpenCim.Generator;

/// <summary>A C type as written: optional leading const, a base name and pointer depth.</summary>
internal sealed record CType(string Base, int PointerDepth, bool IsConst)
{
    public override string ToString() => (IsConst ? "const " : "") + Base + new string('*', PointerDepth);
}

internal abstract record Declaration(string Name, string? Doc, int Line);

/// <summary>#define NAME integer-literal</summary>
internal sealed record Constant(string Name, string Literal, bool IsUnsigned, string? Doc, int Line)
    : Declaration(Name, Doc, Line);

/// <summary>typedef &lt;scalar&gt; NAME; (HRESULT)</summary>
internal sealed record Alias(string Name, CType Target, string? Doc, int Line) : Declaration(Name, Doc, Line);

/// <summary>typedef struct TAG *NAME; with no struct body anywhere: an opaque handle.</summary>
internal sealed record Handle(string Name, string Tag, string? Doc, int Line) : Declaration(Name, Doc, Line);

internal sealed record Field(string Name, CType Type, int? ArrayLength, string? Doc, int Line);

internal sealed record Struct(string Name, IReadOnlyList<Field> Fields, string? Doc, int Line) : Declaration(Name, Doc, Line);

internal sealed record Parameter(string Name, CType Type);

internal sealed record Function(string Name, CType Return, IReadOnlyList<Parameter> Parameters, string? Doc, int Line)
    : Declaration(Name, Doc, Line);

/// <summary>typedef RET (*NAME)(params); a callback type.</summary>
internal sealed record FunctionPointer(string Name, CType Return, IReadOnlyList<Parameter> Parameters, string? Doc, int Line)
    : Declaration(Name, Doc, Line);
