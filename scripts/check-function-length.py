#!/usr/bin/env python3
"""Fails when a function in the studio's JavaScript is longer than the limit (default 120 lines).

Counts from the line that opens a function (`function`, arrow `=> {`, or method `name(...) {`)
to the line of its closing brace. Strings, template literals and comments are skipped when
matching braces. Usage: check-function-length.py [--max N] [files...] (default Public/assets/*.js).
"""
import argparse
import glob
import re
import sys

KEYWORDS = {"if", "for", "while", "switch", "catch", "with", "return", "function"}
METHOD = re.compile(r"^\s*(?:static\s+)?(?:async\s+)?(?:get\s+|set\s+)?\*?([A-Za-z_$][\w$]*)\s*\([^()]*\)\s*\{")
FUNCTION = re.compile(r"\bfunction\b\s*\*?\s*([A-Za-z_$][\w$]*)?\s*\(")
ARROW = re.compile(r"=>\s*\{")


def code_mask(text):
    """Returns text with strings, template literal text and comments blanked (newlines kept)."""
    out = list(text)
    i, n = 0, len(text)
    stack = []  # template literal nesting: each entry counts open braces inside ${...}
    while i < n:
        c = text[i]
        if stack and stack[-1] == -1:  # inside template literal text
            if c == "\\":
                out[i] = " "
                if i + 1 < n and text[i + 1] != "\n":
                    out[i + 1] = " "
                i += 2
                continue
            if c == "`":
                stack.pop()
                i += 1
                continue
            if c == "$" and i + 1 < n and text[i + 1] == "{":
                stack.append(0)
                out[i] = out[i + 1] = " "
                i += 2
                continue
            if c != "\n":
                out[i] = " "
            i += 1
            continue
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if text[k] != "\n":
                    out[k] = " "
            i = j
            continue
        if c in "'\"":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                out[k] = " "
            i = j + 1
            continue
        if c == "`":
            stack.append(-1)
            i += 1
            continue
        if stack and c == "{":
            stack[-1] += 1
        elif stack and c == "}":
            if stack[-1] == 0:  # closes ${ ... }
                stack.pop()
                out[i] = " "
                i += 1
                continue
            stack[-1] -= 1
        i += 1
    return "".join(out)


def matching(code, open_index, opener, closer):
    depth = 0
    for i in range(open_index, len(code)):
        if code[i] == opener:
            depth += 1
        elif code[i] == closer:
            depth -= 1
            if depth == 0:
                return i
    return -1


def functions(code):
    """Yields (name, start offset, body-open offset) for each function in the masked code."""
    for m in FUNCTION.finditer(code):
        close = matching(code, m.end() - 1, "(", ")")
        brace = code.find("{", close) if close >= 0 else -1
        if brace >= 0 and code[close + 1 : brace].strip() == "":
            yield m.group(1) or "(anonymous function)", m.start(), brace
    for m in ARROW.finditer(code):
        yield "(arrow function)", m.start(), m.end() - 1
    offset = 0
    for line in code.splitlines(keepends=True):
        m = METHOD.match(line)
        if m and m.group(1) not in KEYWORDS:
            yield m.group(1), offset, offset + m.end() - 1
        offset += len(line)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=120)
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    files = args.files or sorted(glob.glob("Public/assets/*.js"))
    failures = 0
    longest = (0, "")
    for path in files:
        with open(path, encoding="utf-8") as f:
            code = code_mask(f.read())
        seen = set()
        for name, start, brace in functions(code):
            if brace in seen:
                continue
            seen.add(brace)
            end = matching(code, brace, "{", "}")
            if end < 0:
                continue
            first = code.count("\n", 0, start) + 1
            lines = code.count("\n", start, end) + 1
            if lines > longest[0]:
                longest = (lines, f"{path}:{first} {name}")
            if lines > args.max:
                print(f"{path}:{first}: {name} is {lines} lines (limit {args.max})", file=sys.stderr)
                failures += 1
    if failures:
        print(f"check-function-length: {failures} function(s) over {args.max} lines", file=sys.stderr)
        return 1
    print(f"check-function-length: OK ({len(files)} files, longest {longest[0]} lines: {longest[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
