#!/usr/bin/env python3
"""Checks that the sockway facade's own docs (`cargo doc -p sockway
--no-deps`, in DOC_ROOT/sockway) show the whole API it exposes.

    check_facade_docs.py DOC_ROOT [--expect MODULE ...]

Rules, over every page of the facade (its own docs and the docs of the
items it inlines; trait and blanket implementations are left out, their
method docs being the traits' own, often another crate's):

- links: every relative link points to a page of the facade's docs (or
  rustdoc's static files; "Source" links are not checked, rustdoc pointing
  them at another crate's docs when those are there), and no link is left
  as literal
  text (`[Stream]`, `[adapter_core::server::Server]`): rustdoc writes an
  intra-doc link it cannot place in these docs as the text it was given;
- re-exports: every item of a module's "Re-exports" list links to a page
  of these docs (a re-export that is not inlined, of an item nowhere
  documented here, is a name with no docs);
- type aliases: an alias of a type that has inherent methods shows them
  (rustdoc loads them from `type.impl/sockway/...`, which exists only when
  the aliased type is documented here too);
- pages under a third-party crate that the cores re-export (http, bytes,
  rustls) are left out: they are those crates' docs, as they are;
- `--expect MODULE`: the module's page exists (`tokio`, `server`, ...).

Struct and enum pages need no rule of their own: rustdoc inlines a type
with its inherent impls, so what can go missing is the page (a re-export
not inlined) or an alias's methods.

Exits with 1 and lists every problem when one rule fails.
"""

import argparse
import json
import os
import re
import sys

# Where a relative link may point, besides the facade's own pages.
SHARED = ("static.files/", "src/sockway/", "help.html", "settings.html", "search.index/",
          "trait.impl/sockway/", "type.impl/sockway/", "crates.js")

# Crates of others that the cores re-export (`http_proto::http`,
# `http_proto::bytes`, `adapter_core::rustls`): rustdoc inlines them with
# the cores, as they are; their pages are theirs to fix, not checked here.
THIRD_PARTY = {"http", "bytes", "rustls"}

# The parts of a page that hold docs of another crate's traits.
FOREIGN_SECTIONS = ('id="trait-implementations"', 'id="synthetic-implementations"',
                    'id="blanket-implementations"')

LITERAL_CODE_LINK = re.compile(r"\[<code>([^<]*)</code>\]")
LITERAL_LINK = re.compile(r"\[([A-Za-z_]\w*(?:::\w+)*)\](?!\()")
ANCHOR = re.compile(r"<a\s([^>]*)>")


def own_part(page):
    """The main content of a page, without trait and blanket impls."""
    at = page.find('<section id="main-content"')
    body = page[at:] if at >= 0 else page
    for marker in FOREIGN_SECTIONS:
        at = body.find(marker)
        if at >= 0:
            body = body[:at]
    return body


def literal_links(html):
    """Link text rustdoc left as it was written."""
    prose = re.sub(r"<(pre|script)\b.*?</\1>", "", html, flags=re.S)
    prose = re.sub(r'<h[1-6] class="code-header">.*?</h[1-6]>', "", prose, flags=re.S)
    found = ["[`%s`]" % text for text in LITERAL_CODE_LINK.findall(prose)]
    text = re.sub(r"<code>.*?</code>", "", prose, flags=re.S)
    text = re.sub(r"<[^>]+>", "", text)
    found += ["[%s]" % name for name in LITERAL_LINK.findall(text)]
    return found


def bad_links(html, base, root, facade):
    """Relative links that leave the facade's docs or point nowhere."""
    bad = []
    for attrs in ANCHOR.findall(html):
        href = re.search(r'href="([^"]*)"', attrs)
        # Links to sources: rustdoc links an inlined item's source where
        # its crate's docs happen to be (`cargo doc --workspace` before).
        if href is None or re.search(r'class="src\b', attrs):
            continue
        href = href.group(1)
        if href.startswith(("http://", "https://", "#", "mailto:")) or href == "":
            continue
        path = os.path.normpath(os.path.join(base, href.split("#")[0]))
        inside = os.path.relpath(path, root).replace(os.sep, "/")
        if not (inside.startswith("sockway/") or inside.startswith(SHARED)):
            bad.append("%s (outside the facade's docs)" % href)
        elif not os.path.exists(path):
            bad.append("%s (no such page)" % href)
    return bad


def impl_entries(script):
    """The impls of a type.impl file: (html, alias paths) pairs."""
    match = re.search(r"Object\.fromEntries\((\[.*\])\);", script, re.S)
    entries = []
    for _crate, impls in json.loads(match.group(1)):
        for impl in impls:
            entries.append((impl[0], impl[2:]))
    return entries


def is_inherent(impl_html):
    header = re.search(r'<h3 class="code-header">(.*?)</h3>', impl_html, re.S)
    return header is not None and " for " not in re.sub(r"<[^>]+>", "", header.group(1))


def has_methods(page):
    """Whether a struct or enum page lists inherent methods."""
    inherent = re.search(r'id="implementations-list">(.*?)(?:<h2 |$)', page, re.S)
    return inherent is not None and 'id="method.' in inherent.group(1)


def check_alias(page, path, root, problems):
    decls = re.findall(r'<pre class="rust item-decl"><code>(.*?)</code></pre>', page, re.S)
    name = os.path.relpath(path, root)
    # The "Aliased Type" section: only an alias of a struct, enum or union
    # has methods to show.
    if len(decls) < 2 or not re.match(r"pub (struct|enum|union) ", decls[1]):
        return
    target = re.search(r'=\s*(?:&lt;)?<a class="(?:struct|enum|union)" href="([^"]+)"', decls[0])
    if target is None:
        problems.append("%s: aliases a type not documented here, whose methods cannot show"
                        % name)
        return
    if target.group(1).startswith(("http://", "https://")):
        return  # another crate's type (std's), documented there
    aliased = os.path.normpath(os.path.join(os.path.dirname(path), target.group(1)))
    if not os.path.exists(aliased):
        return  # reported by the link rule
    with open(aliased, encoding="utf-8") as f:
        if not has_methods(f.read()):
            return
    script = re.search(r'<script src="([^"]*type\.impl/[^"]+)" data-self-path="([^"]+)"', page)
    if script is None:
        problems.append("%s: the aliased type has methods, and the page loads none" % name)
        return
    src = os.path.normpath(os.path.join(os.path.dirname(path), script.group(1)))
    if not os.path.relpath(src, root).startswith("type.impl/sockway/") or not os.path.exists(src):
        problems.append("%s: its methods come from %s, outside the facade's docs"
                        % (name, script.group(1)))
        return
    with open(src, encoding="utf-8") as f:
        entries = impl_entries(f.read())
    self_path = script.group(2)
    if not any(is_inherent(html) and 'id="method.' in html and self_path in aliases
               for html, aliases in entries):
        problems.append("%s: no inherent method of the aliased type applies to %s"
                        % (name, self_path))


def check_reexports(page, name, problems):
    for entry in re.findall(r'<dt id="reexport\.[^"]*">(.*?)</dt>', page, re.S):
        code = re.sub(r"\s+as\s+\w+;", ";", entry)
        if not re.search(r"</a>;</code>$", code.strip()):
            text = re.sub(r"<[^>]+>", "", entry)
            problems.append("%s: `%s` names an item not documented here" % (name, text))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("doc_root")
    parser.add_argument("--expect", nargs="*", default=[])
    args = parser.parse_args()
    root = os.path.abspath(args.doc_root)
    facade = os.path.join(root, "sockway")
    problems = []
    pages = 0

    for module in args.expect:
        if not os.path.exists(os.path.join(facade, module, "index.html")):
            problems.append("no page for the module sockway::%s" % module)

    for directory, dirs, files in os.walk(facade):
        dirs[:] = [d for d in dirs if d not in THIRD_PARTY]
        for file in sorted(files):
            if not file.endswith(".html"):
                continue
            path = os.path.join(directory, file)
            name = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                page = f.read()
            pages += 1
            own = own_part(page)
            for text in literal_links(own):
                problems.append("%s: link left as text: %s" % (name, text))
            for link in bad_links(own, directory, root, facade):
                problems.append("%s: link %s" % (name, link))
            check_reexports(own, name, problems)
            if file.startswith("type."):
                check_alias(page, path, root, problems)

    impls = os.path.join(root, "type.impl", "sockway")
    for directory, _dirs, files in os.walk(impls):
        for file in sorted(files):
            path = os.path.join(directory, file)
            name = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                for html, _aliases in impl_entries(f.read()):
                    if not is_inherent(html):
                        continue
                    for text in literal_links(html):
                        problems.append("%s: link left as text: %s" % (name, text))
                    # Links in these files are relative to the doc root.
                    for link in bad_links(html, root, root, facade):
                        problems.append("%s: link %s" % (name, link))

    if pages == 0:
        problems.append("no pages under %s: build the docs first" % facade)
    for problem in problems:
        print("check-facade-docs: " + problem)
    if problems:
        print("check-facade-docs: %d problem(s) in %d pages" % (len(problems), pages))
        return 1
    print("check-facade-docs: %d pages, every link placed, every alias with its methods" % pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
