// Splits the header into tokens. It knows only what cimfs.h uses (identifiers, integer
// literals, the punctuation of declarations, one string literal for extern "C", comments and
// preprocessor lines) and throws on anything else, so a header change it cannot follow stops the
// build instead of producing a wrong binding.
using System;
using System.Collections.Generic;
using System.Text;

namespace OpenCim.Generator;

internal enum TokenKind { Identifier, Number, Punctuation, String, Directive, Comment }

/// <param name="IsDoc">A "/** ... */" comment, carried into the C# output as documentation.</param>
internal sealed record Token(TokenKind Kind, string Text, int Line, bool IsDoc = false);

internal sealed class HeaderFormatException(string file, int line, string message)
    : Exception($"{file}:{line}: {message}");

internal static class Lexer
{
    private const string Punctuation = "{}()[];,*";

    public static List<Token> Tokenize(string text, string file)
    {
        var tokens = new List<Token>();
        int i = 0, line = 1;
        bool lineStart = true;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '\n') { line++; lineStart = true; i++; continue; }
            if (c is ' ' or '\t' or '\r' or '\f') { i++; continue; }
            if (c == '#' && lineStart)
            {
                int end = text.IndexOf('\n', i);
                if (end < 0) end = text.Length;
                LexDirective(text[(i + 1)..end], file, line, tokens);
                i = end;
                continue;
            }
            lineStart = false;
            if (c == '/' && Peek(text, i + 1) == '*')
            {
                int close = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (close < 0) throw new HeaderFormatException(file, line, "unterminated comment");
                string body = text[(i + 2)..close];
                bool doc = body.StartsWith('*') && !body.StartsWith("*/", StringComparison.Ordinal);
                tokens.Add(new Token(TokenKind.Comment, CleanComment(doc ? body[1..] : body), line, doc));
                line += Count(body, '\n');
                i = close + 2;
                continue;
            }
            if (c == '/' && Peek(text, i + 1) == '/')
            {
                int end = text.IndexOf('\n', i);
                if (end < 0) end = text.Length;
                tokens.Add(new Token(TokenKind.Comment, text[(i + 2)..end].Trim(), line));
                i = end;
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Identifier, text[start..i], line));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                int start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Number, text[start..i], line));
                continue;
            }
            if (c == '"')
            {
                int close = text.IndexOf('"', i + 1);
                if (close < 0 || text.IndexOfAny(['\n', '\\'], i + 1, close - i - 1) >= 0)
                    throw new HeaderFormatException(file, line, "string literal with escapes or line breaks is not supported");
                tokens.Add(new Token(TokenKind.String, text[(i + 1)..close], line));
                i = close + 1;
                continue;
            }
            if (Punctuation.Contains(c))
            {
                tokens.Add(new Token(TokenKind.Punctuation, c.ToString(), line));
                i++;
                continue;
            }
            throw new HeaderFormatException(file, line, $"unexpected character '{c}'");
        }
        return tokens;
    }

    // A directive runs to the end of its line. Comments inside it are split off (a trailing
    // comment documents a #define); a comment or a continuation that runs past the line is refused.
    private static void LexDirective(string rest, string file, int line, List<Token> tokens)
    {
        if (rest.TrimEnd().EndsWith('\\'))
            throw new HeaderFormatException(file, line, "line continuations in directives are not supported");
        var code = new StringBuilder();
        string? comment = null;
        bool doc = false;
        for (int i = 0; i < rest.Length; i++)
        {
            if (rest[i] == '/' && Peek(rest, i + 1) == '*')
            {
                int close = rest.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (close < 0) throw new HeaderFormatException(file, line, "comment in a directive runs past its line");
                string body = rest[(i + 2)..close];
                doc = body.StartsWith('*');
                comment = CleanComment(doc ? body[1..] : body);
                i = close + 1;
                continue;
            }
            if (rest[i] == '/' && Peek(rest, i + 1) == '/')
            {
                comment = rest[(i + 2)..].Trim();
                break;
            }
            code.Append(rest[i]);
        }
        tokens.Add(new Token(TokenKind.Directive, code.ToString().Trim(), line));
        if (comment is not null) tokens.Add(new Token(TokenKind.Comment, comment, line, doc));
    }

    // Removes the leading " * " of each line of a block comment and surrounding blank lines.
    private static string CleanComment(string body)
    {
        var lines = new List<string>();
        foreach (string raw in body.Split('\n'))
        {
            string l = raw.Trim();
            if (l.StartsWith('*')) l = l[1..].TrimStart();
            lines.Add(l);
        }
        while (lines.Count > 0 && lines[0].Length == 0) lines.RemoveAt(0);
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return string.Join('\n', lines);
    }

    private static char Peek(string s, int i) => i < s.Length ? s[i] : '\0';

    private static int Count(string s, char c)
    {
        int n = 0;
        foreach (char x in s) if (x == c) n++;
        return n;
    }
}
