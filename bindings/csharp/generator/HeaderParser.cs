// Turns the token stream of cimfs.h into declarations. Two stages: a tiny preprocessor that
// evaluates the header's #if/#ifdef/#ifndef (nothing is predefined, so the _WIN32 and
// __cplusplus branches drop out), collects integer #defines and the export macro; then a parser
// for the three kinds of C declaration the header contains. Everything else is an error that
// names the line, so the binding can never silently miss or mistranslate a declaration.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace OpenCim.Generator;

internal sealed partial class HeaderParser
{
    /// <summary>C scalar types the header may use.</summary>
    public static readonly IReadOnlySet<string> Scalars = new HashSet<string>
    {
        "void", "char", "int", "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t", "int64_t", "uint64_t",
    };

    private readonly string _file;
    private readonly List<Declaration> _decls = [];
    private readonly HashSet<string> _defined = [];
    private readonly HashSet<string> _exportMacros = [];
    private readonly Dictionary<string, Declaration> _types = [];
    private List<Token> _code = [];
    private int _pos;

    private HeaderParser(string file) => _file = file;

    public static IReadOnlyList<Declaration> Parse(string text, string file)
    {
        var p = new HeaderParser(file);
        p.Preprocess(Lexer.Tokenize(text, file));
        p.ParseDeclarations();
        return p._decls;
    }

    private HeaderFormatException Error(int line, string message) => new(_file, line, message);

    // ---------------------------------------------------------------- preprocessor

    [GeneratedRegex(@"^(ifdef|ifndef)\s+(\w+)$")]
    private static partial Regex IfdefRx();
    [GeneratedRegex(@"^if\s+(!?)\s*defined\s*(?:\(\s*(\w+)\s*\)|\s(\w+))$")]
    private static partial Regex IfDefinedRx();
    [GeneratedRegex(@"^define\s+(\w+)(?:\s+(.*))?$")]
    private static partial Regex DefineRx();
    [GeneratedRegex(@"^(0[xX][0-9A-Fa-f]+|[0-9]+)([uU]?)$")]
    private static partial Regex IntegerRx();

    private sealed record Cond(bool ParentActive, bool Taken, bool SeenElse, int Line);

    private void Preprocess(List<Token> tokens)
    {
        var stack = new Stack<Cond>();
        bool Active() => stack.Count == 0 || (stack.Peek().ParentActive && stack.Peek().Taken);
        Token? pendingDoc = null;

        for (int i = 0; i < tokens.Count; i++)
        {
            Token t = tokens[i];
            if (t.Kind != TokenKind.Directive)
            {
                if (!Active()) continue;
                if (t.Kind == TokenKind.Comment && t.IsDoc)
                {
                    if (pendingDoc is not null) _code.Add(pendingDoc);
                    pendingDoc = t;
                    continue;
                }
                if (pendingDoc is not null) { _code.Add(pendingDoc); pendingDoc = null; }
                _code.Add(t);
                continue;
            }

            string d = t.Text;
            Match m;
            if ((m = IfdefRx().Match(d)).Success)
            {
                bool want = m.Groups[1].Value == "ifdef";
                stack.Push(new Cond(Active(), _defined.Contains(m.Groups[2].Value) == want, false, t.Line));
            }
            else if ((m = IfDefinedRx().Match(d)).Success)
            {
                string name = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
                bool negate = m.Groups[1].Value == "!";
                stack.Push(new Cond(Active(), _defined.Contains(name) != negate, false, t.Line));
            }
            else if (d == "else")
            {
                if (stack.Count == 0 || stack.Peek().SeenElse) throw Error(t.Line, "#else without #if");
                Cond c = stack.Pop();
                stack.Push(c with { Taken = !c.Taken, SeenElse = true });
            }
            else if (d == "endif")
            {
                if (stack.Count == 0) throw Error(t.Line, "#endif without #if");
                stack.Pop();
            }
            else if (!Active())
            {
                // Inside a branch that is dropped; only conditionals matter there, and those were
                // handled above. Anything else is not evaluated, exactly as in a C preprocessor.
            }
            else if ((m = DefineRx().Match(d)).Success)
            {
                string name = m.Groups[1].Value;
                string value = m.Groups[2].Success ? m.Groups[2].Value.Trim() : "";
                Token? trailing = i + 1 < tokens.Count && tokens[i + 1].Kind == TokenKind.Comment && tokens[i + 1].Line == t.Line
                    ? tokens[++i] : null;
                _defined.Add(name);
                if (value.Length == 0)
                {
                    // Include guards and _HRESULT_DEFINED: markers only, nothing to bind.
                }
                else if (IntegerRx().Match(value) is { Success: true } im)
                {
                    string? doc = Join(pendingDoc?.Text, trailing?.Text);
                    pendingDoc = null;
                    _decls.Add(new Constant(name, im.Groups[1].Value, im.Groups[2].Length > 0, doc, t.Line));
                }
                else if (value.StartsWith("__attribute__", StringComparison.Ordinal) || value.StartsWith("__declspec", StringComparison.Ordinal))
                {
                    // The export macro (CIMFS_API): it marks function declarations.
                    _exportMacros.Add(name);
                }
                else
                {
                    throw Error(t.Line, $"#define {name} {value}: only integer constants and the export macro are understood");
                }
            }
            else if (d.StartsWith("include", StringComparison.Ordinal))
            {
                if (d != "include <stdint.h>") throw Error(t.Line, $"#{d}: the header may include only <stdint.h>");
            }
            else
            {
                throw Error(t.Line, $"unsupported directive #{d}");
            }
        }
        if (stack.Count > 0) throw Error(stack.Peek().Line, "#if without #endif");
        if (pendingDoc is not null) _code.Add(pendingDoc);
    }

    private static string? Join(string? a, string? b) =>
        a is null ? b : b is null ? a : a + "\n" + b;

    // ---------------------------------------------------------------- declarations

    private Token? PeekToken(int ahead = 0)
    {
        int p = _pos;
        for (int seen = 0; p < _code.Count; p++)
        {
            if (_code[p].Kind == TokenKind.Comment) continue;
            if (seen++ == ahead) return _code[p];
        }
        return null;
    }

    private Token Next()
    {
        while (_pos < _code.Count && _code[_pos].Kind == TokenKind.Comment) _pos++;
        if (_pos >= _code.Count) throw Error(_code.Count > 0 ? _code[^1].Line : 0, "unexpected end of header");
        return _code[_pos++];
    }

    private Token Expect(string text)
    {
        Token t = Next();
        if (t.Text != text || t.Kind is TokenKind.String or TokenKind.Comment)
            throw Error(t.Line, $"expected '{text}', found '{t.Text}'");
        return t;
    }

    private Token ExpectIdentifier(string what)
    {
        Token t = Next();
        if (t.Kind != TokenKind.Identifier) throw Error(t.Line, $"expected {what}, found '{t.Text}'");
        return t;
    }

    // A comment that starts on the line where a declaration ended documents it (/* 8 size */).
    private string? TrailingComment(int line)
    {
        if (_pos < _code.Count && _code[_pos] is { Kind: TokenKind.Comment } c && c.Line == line)
        {
            _pos++;
            return c.Text;
        }
        return null;
    }

    // The doc comment directly before the next declaration, if any; plain comments are skipped.
    private string? TakeDoc()
    {
        string? doc = null;
        while (_pos < _code.Count && _code[_pos].Kind == TokenKind.Comment)
        {
            doc = _code[_pos].IsDoc ? _code[_pos].Text : null;
            _pos++;
        }
        return doc;
    }

    private void ParseDeclarations()
    {
        while (true)
        {
            string? doc = TakeDoc();
            if (_pos >= _code.Count) break;
            Token t = PeekToken()!;
            if (t.Text == "typedef") ParseTypedef(doc);
            else if (t.Kind == TokenKind.Identifier && _exportMacros.Contains(t.Text)) ParseFunction(doc);
            else
                throw Error(t.Line, $"unexpected '{t.Text}': only typedefs and functions marked with " +
                                    $"{string.Join("/", _exportMacros.DefaultIfEmpty("the export macro"))} are understood");
        }
    }

    private CType ParseType()
    {
        Token t = Next();
        bool isConst = false;
        if (t.Text == "const") { isConst = true; t = Next(); }
        if (t.Text is "struct" or "union" or "enum" or "unsigned" or "signed" or "long" or "short")
            throw Error(t.Line, $"'{t.Text}' in a type: use a typedef'd name or a <stdint.h> type");
        if (t.Kind != TokenKind.Identifier) throw Error(t.Line, $"expected a type, found '{t.Text}'");
        if (!Scalars.Contains(t.Text) && !_types.ContainsKey(t.Text)) throw Error(t.Line, $"unknown type '{t.Text}'");
        int depth = 0;
        while (PeekToken()?.Text == "*") { Next(); depth++; }
        if (PeekToken()?.Text == "const") throw Error(PeekToken()!.Line, "'const' after the type or a '*' is not supported");
        if (depth > 1) throw Error(t.Line, $"pointer to pointer of '{t.Text}' is not supported");
        return new CType(t.Text, depth, isConst);
    }

    private void AddType(Declaration d, int line)
    {
        if (_types.ContainsKey(d.Name) || Scalars.Contains(d.Name)) throw Error(line, $"'{d.Name}' is declared twice");
        _types[d.Name] = d;
        _decls.Add(d);
    }

    private void ParseTypedef(string? doc)
    {
        Token start = Expect("typedef");
        if (PeekToken()?.Text != "struct")
        {
            CType target = ParseType();
            if (PeekToken()?.Text == "(")
            {
                // typedef RET (*NAME)(params);  a callback type.
                Next();
                Expect("*");
                Token fname = ExpectIdentifier("a function pointer type name");
                Expect(")");
                var fps = ParseParameters(fname.Text, start.Line);
                Token fsemi = Expect(";");
                AddType(new FunctionPointer(fname.Text, target, fps, Join(doc, TrailingComment(fsemi.Line)), start.Line), start.Line);
                return;
            }
            if (target.PointerDepth != 0 || target.IsConst || !Scalars.Contains(target.Base) || target.Base is "void" or "char")
                throw Error(start.Line, $"typedef of '{target}': only integer scalars can be aliased");
            Token name = ExpectIdentifier("a typedef name");
            Token semi = Expect(";");
            AddType(new Alias(name.Text, target, Join(doc, TrailingComment(semi.Line)), start.Line), start.Line);
            return;
        }
        Next(); // struct
        string? tag = null;
        if (PeekToken()?.Kind == TokenKind.Identifier) tag = Next().Text;
        if (PeekToken()?.Text == "*")
        {
            // typedef struct TAG *NAME;  an opaque handle.
            Next();
            Token name = ExpectIdentifier("a handle type name");
            Token semi = Expect(";");
            if (tag is null) throw Error(start.Line, "an opaque handle needs a struct tag");
            AddType(new Handle(name.Text, tag, Join(doc, TrailingComment(semi.Line)), start.Line), start.Line);
            return;
        }
        Expect("{");
        var fields = new List<Field>();
        while (PeekToken()?.Text != "}")
        {
            string? fieldDoc = TakeDoc();
            if (PeekToken()?.Text == "}") break;
            int line = PeekToken()?.Line ?? start.Line;
            CType type = ParseType();
            if (type.Base == "void" && type.PointerDepth == 0) throw Error(line, "a field of type void");
            Token name = ExpectIdentifier("a field name");
            int? length = null;
            if (PeekToken()?.Text == "[")
            {
                Next();
                Token n = Next();
                if (n.Kind != TokenKind.Number || !int.TryParse(n.Text, out int len) || len <= 0)
                    throw Error(n.Line, $"array length '{n.Text}' must be a positive decimal literal");
                if (type.PointerDepth != 0 || type.Base is not ("uint8_t" or "int8_t" or "uint16_t" or "int16_t" or "uint32_t" or "int32_t" or "uint64_t" or "int64_t"))
                    throw Error(n.Line, $"arrays of '{type}' are not supported");
                Expect("]");
                length = len;
            }
            if (PeekToken()?.Text == ",") throw Error(name.Line, "several fields in one declaration are not supported");
            Token semi = Expect(";");
            if (fields.Any(f => f.Name == name.Text)) throw Error(name.Line, $"field '{name.Text}' is declared twice");
            fields.Add(new Field(name.Text, type, length, Join(fieldDoc, TrailingComment(semi.Line)), line));
        }
        Expect("}");
        Token sname = ExpectIdentifier("the struct's typedef name");
        Token end = Expect(";");
        if (tag is not null && tag != sname.Text) throw Error(start.Line, $"struct tag '{tag}' differs from its typedef name '{sname.Text}'");
        if (fields.Count == 0) throw Error(start.Line, "empty struct");
        AddType(new Struct(sname.Text, fields, Join(doc, TrailingComment(end.Line)), start.Line), start.Line);
    }

    private void ParseFunction(string? doc)
    {
        Token start = Next(); // export macro
        CType ret = ParseType();
        Token name = ExpectIdentifier("a function name");
        if (_decls.Any(x => x.Name == name.Text)) throw Error(name.Line, $"'{name.Text}' is declared twice");
        var ps = ParseParameters(name.Text, start.Line);
        Token semi = Expect(";");
        _decls.Add(new Function(name.Text, ret, ps, Join(doc, TrailingComment(semi.Line)), start.Line));
    }

    // "(void)" or "(type name, ...)", including both parentheses.
    private List<Parameter> ParseParameters(string owner, int line0)
    {
        Expect("(");
        var ps = new List<Parameter>();
        if (PeekToken()?.Text == "void" && PeekToken(1)?.Text == ")")
        {
            Next();
        }
        else
        {
            while (true)
            {
                int line = PeekToken()?.Line ?? line0;
                CType type = ParseType();
                if (type.Base == "void" && type.PointerDepth == 0) throw Error(line, "a parameter of type void");
                if (PeekToken()?.Kind != TokenKind.Identifier) throw Error(line, $"parameter {ps.Count + 1} of {owner} has no name");
                Token pn = Next();
                if (PeekToken()?.Text == "[") throw Error(pn.Line, "array parameters are not supported: write a pointer");
                ps.Add(new Parameter(pn.Text, type));
                if (PeekToken()?.Text == ",") { Next(); continue; }
                break;
            }
        }
        Expect(")");
        return ps;
    }
}
